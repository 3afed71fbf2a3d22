// In-bank PIM GEMV unit: the processing unit beside one DRAM bank in NeuPIMs / Newton-style
// HBM-PIM (cosim.hw.pim), with the three commands of the PIM model:
//
//   vector load  (GWRITE)  vld_we/vld_addr/vld_data: write one burst of the vector into entry
//                          vld_addr of the operand buffer (a row's vector = BUF_DEPTH writes);
//   compute      (MAC)     mac_valid/mac_col/mac_data: multiply the column burst read from the
//                          PIM row buffer (mac_data, LANES operands) lane-wise with buffer entry
//                          mac_col, reduce through the adder tree, add into the accumulator;
//   result read  (RDRES)   rd_valid: return the accumulator on res_data one cycle later
//                          (res_valid) and clear it, so the next MAC starts the next result.
//
// Timing (the contract cosim.hw.pim's timing table assumes): no back-pressure, a MAC can be
// issued every cycle (the model spaces them tCCD / MAC gap >= 1 apart), and the sum of a MAC
// issued in cycle c is in the accumulator from cycle c + ADDER_TREE_CYCLES on (the model's
// `adder_tree_cycles`, which its MAC -> RDRES gap covers).  acc_ready says the accumulator holds
// the complete sum of every MAC issued since the last read; a read while MACs are still in the
// pipeline returns what has landed, the rest goes to the next result, and rd_overlap (sticky)
// records that the controller broke the MAC -> RDRES gap.
//
// Accumulator width ACC_W must hold the longest reduction exactly: LANES x BUF_DEPTH products
// (a full row of the vector) need 2W + floor(log2(LANES x BUF_DEPTH)) bits
// (cosim.golden.pim_acc_bits); integer sums wrap modulo 2^ACC_W beyond that.  FP16 mode
// accumulates in binary16 (ACC_W = 16), every add rounded (cosim.golden.pim_gemv_fp16).
module pim_gemv #(
    parameter integer LANES             = 16,  // multipliers: operands per column burst (power of two)
    parameter integer W                 = 16,  // operand width, signed integers (16 with FP16 = 1)
    parameter integer FP16              = 0,   // 1: IEEE binary16 operands, products, tree and accumulator
    parameter integer BUF_DEPTH         = 32,  // operand-buffer entries (>= 2): a row's worth of the vector
    parameter integer ADDER_TREE_CYCLES = 2,   // MAC issue to sum in the accumulator, cycles (>= 1)
    parameter integer ACC_W             = 41   // accumulator / result width (16 with FP16 = 1)
) (
    input  wire                                             clk,
    input  wire                                             rst,        // synchronous, active high
    // vector load (GWRITE)
    input  wire                                             vld_we,
    input  wire [(BUF_DEPTH > 1 ? $clog2(BUF_DEPTH) : 1)-1:0] vld_addr,
    input  wire [LANES*W-1:0]                               vld_data,
    // compute (MAC)
    input  wire                                             mac_valid,
    input  wire [(BUF_DEPTH > 1 ? $clog2(BUF_DEPTH) : 1)-1:0] mac_col,
    input  wire [LANES*W-1:0]                               mac_data,
    // result read (RDRES)
    input  wire                                             rd_valid,
    output reg                                              res_valid,
    output reg  [ACC_W-1:0]                                 res_data,
    // status
    output wire                                             acc_ready,  // accumulator complete
    output reg                                              acc_landed, // a MAC's sum entered it at the last edge
    output reg                                              rd_overlap  // sticky: RDRES with MACs in flight
);
    localparam integer L         = ADDER_TREE_CYCLES;
    localparam integer SUM_W     = FP16 ? 16 : 2 * W + $clog2(LANES);
    localparam integer MIN_ACC_W = FP16 ? 16 : 2 * W + $clog2(LANES * BUF_DEPTH + 1) - 1;

`ifndef SYNTHESIS
    initial begin
        if ((1 << $clog2(LANES)) != LANES) $fatal(1, "pim_gemv: LANES=%0d is not a power of two", LANES);
        if (L < 1) $fatal(1, "pim_gemv: ADDER_TREE_CYCLES=%0d must be >= 1", L);
        if (BUF_DEPTH < 2) $fatal(1, "pim_gemv: BUF_DEPTH=%0d must be >= 2", BUF_DEPTH);
        if (FP16 != 0 && (W != 16 || ACC_W != 16)) $fatal(1, "pim_gemv: FP16 needs W=16 and ACC_W=16");
        if (ACC_W < MIN_ACC_W) $fatal(1, "pim_gemv: ACC_W=%0d < %0d bits the longest reduction needs", ACC_W, MIN_ACC_W);
    end
`endif

    wire [LANES*W-1:0] vec;
    pim_vbuf #(.DEPTH(BUF_DEPTH), .WIDTH(LANES * W)) u_vbuf (
        .clk(clk), .we(vld_we), .waddr(vld_addr), .wdata(vld_data), .raddr(mac_col), .rdata(vec)
    );

    wire [SUM_W-1:0] sum;
    pim_dot #(.LANES(LANES), .W(W), .FP16(FP16), .REGS(L - 1)) u_dot (
        .clk(clk), .a(mac_data), .b(vec), .sum(sum)
    );

    // which MACs are in flight: land = the sum at the accumulator input belongs to a MAC issued
    // L - 1 cycles ago; pending = a MAC issued before this cycle has not reached the accumulator
    wire land, pending;
    generate
        if (L == 1) begin : g_l1
            assign land    = mac_valid;
            assign pending = 1'b0;
        end else begin : g_ln
            reg [L-2:0] v;  // v[k]: a MAC was issued k + 1 cycles ago
            always @(posedge clk) begin
                if (rst) v <= {(L - 1){1'b0}};
                else v <= {v, mac_valid};
            end
            assign land    = v[L-2];
            assign pending = |v;
        end
    endgenerate

    reg  [ACC_W-1:0] acc;
    reg              acc_full;  // something landed since the last read
    wire [ACC_W-1:0] sum_ext;
    wire [ACC_W-1:0] acc_next;
    generate
        if (FP16) begin : g_fp
            assign sum_ext = sum;
            fp16_add u_acc (.a(acc), .b(sum), .y(acc_next));
        end else begin : g_int
            assign sum_ext  = $signed(sum);
            assign acc_next = acc + sum_ext;
        end
    endgenerate

    always @(posedge clk) begin
        if (rst) begin
            acc        <= {ACC_W{1'b0}};
            acc_full   <= 1'b0;
            acc_landed <= 1'b0;
            res_valid  <= 1'b0;
            res_data   <= {ACC_W{1'b0}};
            rd_overlap <= 1'b0;
        end else begin
            acc_landed <= land;
            res_valid  <= rd_valid;
            if (rd_valid) begin
                res_data <= acc_full ? acc : {ACC_W{1'b0}};
                if (pending) rd_overlap <= 1'b1;
                acc_full <= land;  // a sum landing now opens the next result
                if (land) acc <= sum_ext;
            end else if (land) begin
                acc      <= acc_full ? acc_next : sum_ext;
                acc_full <= 1'b1;
            end
        end
    end

    assign acc_ready = acc_full & ~pending;
endmodule
