// opt1_pe: OPT1 PE of the HPCA'25 TPE paper: carry-save accumulation with one final add.
//
// The accumulator is kept as a redundant (sum, carry) pair for the whole dot product: each cycle the
// radix-4 Booth partial products of a*b and the pair are compressed by a 3:2 tree (opt1_madd), so no
// carry-propagate adder is on the accumulation loop and the loop delay no longer grows with ACC_W.
// The one carry-propagate add per dot product happens in a separate stage after `last` (the paper
// moves it off the PE, onto a vector unit).  Same streaming interface as mac_pe; latency one cycle
// more than mac_pe, for the final-add stage: out_valid rises one edge after the edge accepting
// the last pair).
module opt1_pe #(
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
    output reg  signed [ACC_W-1:0] result
);
    reg  [ACC_W-1:0] acc_s, acc_c;
    wire [ACC_W-1:0] nxt_s, nxt_c;
    reg              fin;   // the pair in acc_s/acc_c is a finished dot product

    opt1_madd #(.W(W), .OUT_W(ACC_W)) u_madd (
        .a(a), .b(b),
        .x_s(first ? {ACC_W{1'b0}} : acc_s),
        .x_c(first ? {ACC_W{1'b0}} : acc_c),
        .y_s(nxt_s), .y_c(nxt_c)
    );

    always @(posedge clk) begin
        if (in_valid) begin
            acc_s <= nxt_s;
            acc_c <= nxt_c;
        end
        if (fin) result <= acc_s + acc_c;   // the one final add
        fin       <= rst ? 1'b0 : (in_valid & last);
        out_valid <= rst ? 1'b0 : fin;
    end
endmodule
