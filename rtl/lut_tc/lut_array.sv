// A small LUT array with its operand buffers and a sequencer: runs one M x N output tile over
// n_groups k-steps of K activations, with w_bits-bit weights, bit-serially.
//
// Timing (what cosim.hw.lut_tc.array_sequence_cycles predicts): after `start`, one LOAD cycle
// builds the first tables, then n_groups * w_bits RUN cycles, one bit plane each; the next
// group's tables are latched in the last bit cycle of the current group, so there are no bubbles.
// `busy` is high in exactly those 1 + n_groups * w_bits cycles; `done` is high for one cycle after.
module lut_array #(
    parameter integer M     = 2,   // rows
    parameter integer N     = 4,   // columns
    parameter integer K     = 4,   // activations per table
    parameter integer AW    = 8,   // activation width
    parameter integer TW    = 11,  // table entry width
    parameter integer WMAX  = 8,   // largest weight width (bit planes per group), a power of two
    parameter integer GMAX  = 8,   // largest number of k-steps, a power of two
    parameter integer ACC_W = 32,  // accumulator width
    localparam integer GA_W = (GMAX > 1) ? $clog2(GMAX) : 1,  // group address width
    localparam integer WB_W = (WMAX > 1) ? $clog2(WMAX) : 1   // bit-plane index width
) (
    input  wire                 clk,
    input  wire                 rst,
    // operand buffers (write before start)
    input  wire                 act_we,
    input  wire [GA_W-1:0]      act_waddr,   // group g
    input  wire [M*K*AW-1:0]    act_wdata,
    input  wire                 w_we,
    input  wire [GA_W+WB_W-1:0] w_waddr,     // {group g, bit plane b}
    input  wire [N*K-1:0]       w_wdata,     // column n at [n*K +: K]: {neg, sel}
    // run
    input  wire [WB_W:0]        w_bits,      // 1..WMAX
    input  wire [GA_W:0]        n_groups,    // 1..GMAX
    input  wire                 start,
    output wire                 busy,
    output wire                 done,
    output wire [M*N*ACC_W-1:0] result
);
    localparam [1:0] IDLE = 2'd0, LOAD = 2'd1, RUN = 2'd2, DONE = 2'd3;

    reg [M*K*AW-1:0] act_mem [0:GMAX-1];
    reg [N*K-1:0]    w_mem   [0:GMAX*(1<<WB_W)-1];
    always @(posedge clk) begin
        if (act_we) act_mem[act_waddr] <= act_wdata;
        if (w_we)   w_mem[w_waddr] <= w_wdata;
    end

    reg [1:0]      state;
    reg [GA_W-1:0] g;
    reg [WB_W-1:0] b;
    wire last_b = ({1'b0, b} == w_bits - 1'b1);
    wire last_g = ({1'b0, g} == n_groups - 1'b1);
    wire [GA_W-1:0] act_addr = (state == LOAD) ? {GA_W{1'b0}} : g + 1'b1;

    always @(posedge clk) begin
        if (rst) begin
            state <= IDLE;
            g <= 0;
            b <= 0;
        end else begin
            case (state)
                IDLE: if (start) state <= LOAD;
                LOAD: begin
                    g <= 0;
                    b <= 0;
                    state <= RUN;
                end
                RUN: begin
                    if (last_b) begin
                        b <= 0;
                        if (last_g) state <= DONE;
                        else g <= g + 1'b1;
                    end else begin
                        b <= b + 1'b1;
                    end
                end
                default: state <= IDLE;  // DONE
            endcase
        end
    end

    assign busy = (state == LOAD) || (state == RUN);
    assign done = (state == DONE);

    lut_array_core #(.M(M), .N(N), .K(K), .AW(AW), .TW(TW), .WB_W(WB_W), .ACC_W(ACC_W)) u_core (
        .clk(clk),
        .load((state == LOAD) || (state == RUN && last_b && !last_g)),
        .act(act_mem[act_addr]),
        .en(state == RUN),
        .clear(state == RUN && g == 0 && b == 0),
        .bidx(b),
        .wplane(w_mem[{g, b}]),
        .result(result)
    );
endmodule
