// mac_pe: baseline multiply-accumulate PE (the "MAC PE" of the HPCA'25 TPE paper's comparisons).
//
// Streaming interface shared by all TPE units in rtl/ (mac_pe, opt1_pe, dot_tree, opt2_tree):
// one operand pair per cycle when in_valid; `first` starts a new dot product (the accumulator is
// loaded with the product instead of adding to it), `last` ends one.  The result of a dot product
// appears on `result` with out_valid high for one cycle; both are raised by the rising edge that
// accepts the last pair (so they can be read in the following cycle).  The accumulator update acc + a*b is one multiplier and one carry-propagate adder in
// a single cycle: this adder on the loop is what OPT1 removes.
module mac_pe #(
    parameter integer W     = 8,                   // operand width (two's complement)
    parameter integer K_MAX = 256,                 // longest dot product the accumulator must hold
    parameter integer ACC_W = 2*W + $clog2(K_MAX)  // accumulator width: 2W + ceil(log2 K_MAX), derived
) (
    input  wire                    clk,
    input  wire                    rst,       // synchronous, active high
    input  wire                    in_valid,
    input  wire                    first,
    input  wire                    last,
    input  wire signed [W-1:0]     a,
    input  wire signed [W-1:0]     b,
    output reg                     out_valid,
    output wire signed [ACC_W-1:0] result
);
    reg signed [ACC_W-1:0] acc;
    wire signed [ACC_W-1:0] base = first ? {ACC_W{1'b0}} : acc;

    always @(posedge clk) begin
        if (in_valid) acc <= base + a * b;
        out_valid <= rst ? 1'b0 : (in_valid & last);
    end
    assign result = acc;
endmodule
