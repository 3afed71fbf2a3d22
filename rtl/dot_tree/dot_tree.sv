// dot_tree: baseline multiplier-adder tree (the "adder tree" TPE of the HPCA'25 TPE paper, as in
// Trapezoid): NCOL columns, each with KP multipliers a_k * b_{k,n} feeding an adder tree, and an
// accumulator over time.  Each multiplier resolves its own 2W-bit product (kept as a separate
// netlist node, as discrete multipliers would be), then the products are summed at full width.
//
// Streaming interface as mac_pe, vectorised: per cycle one activation vector a (KP lanes, shared by
// all columns) and one weight matrix b (KP x NCOL); `result` holds NCOL dot products, timed as in mac_pe.
module dot_tree #(
    parameter integer W      = 8,    // operand width (two's complement)
    parameter integer KP     = 16,   // spatial reduction length (lanes per column)
    parameter integer NCOL   = 4,    // columns (outputs) sharing the activation vector
    parameter integer KT_MAX = 16,   // most cycles one dot product may accumulate over
    parameter integer ACC_W  = 2*W + $clog2(KP*KT_MAX)  // accumulator width, derived
) (
    input  wire                   clk,
    input  wire                   rst,        // synchronous, active high
    input  wire                   in_valid,
    input  wire                   first,
    input  wire                   last,
    input  wire [KP*W-1:0]        a_vec,      // lane k in bits [k*W +: W]
    input  wire [NCOL*KP*W-1:0]   b_mat,      // column n, lane k in bits [(n*KP + k)*W +: W]
    output reg                    out_valid,
    output wire [NCOL*ACC_W-1:0]  result      // column n in bits [n*ACC_W +: ACC_W]
);
    localparam integer SUM_W = 2*W + $clog2(KP);   // one cycle's dot product

    genvar n, k;
    generate
        for (n = 0; n < NCOL; n = n + 1) begin : g_col
            wire [KP*SUM_W-1:0] prods;
            for (k = 0; k < KP; k = k + 1) begin : g_mul
                wire signed [W-1:0] ak = a_vec[k*W +: W];
                wire signed [W-1:0] bk = b_mat[(n*KP + k)*W +: W];
                (* keep *) wire signed [2*W-1:0] p;
                assign p = ak * bk;
                wire signed [SUM_W-1:0] p_ext = p;
                assign prods[k*SUM_W +: SUM_W] = p_ext;
            end
            reg signed [SUM_W-1:0] tree;
            integer t;
            always @(*) begin
                tree = {SUM_W{1'b0}};
                for (t = 0; t < KP; t = t + 1) tree = tree + $signed(prods[t*SUM_W +: SUM_W]);
            end
            reg  signed [ACC_W-1:0] acc;
            wire signed [ACC_W-1:0] base = first ? {ACC_W{1'b0}} : acc;
            wire signed [ACC_W-1:0] nxt  = base + tree;
            always @(posedge clk) if (in_valid) acc <= nxt;
            assign result[n*ACC_W +: ACC_W] = acc;
        end
    endgenerate

    always @(posedge clk) out_valid <= rst ? 1'b0 : (in_valid & last);
endmodule
