// FP16 LUT lane, as in the paper's released array (FP16 tables, FP16 accumulation): 8:1 mux
// into a symmetric table of FP16 entries, conditional negate (flip the sign bit), x 2^b by adding
// b to the exponent (zero stays zero, overflow saturates to infinity), FP16 accumulate.
// The tables come precomputed (fused into the previous element-wise op on the vector units).
module lut_cell_fp16 #(
    parameter integer K    = 4,  // activations per table
    parameter integer WB_W = 3   // bit-plane index width
) (
    input  wire                     clk,
    input  wire                     en,
    input  wire                     clear,    // first term of a new output
    input  wire [(1<<(K-1))*16-1:0] table_i,  // FP16 entry e at [e*16 +: 16]
    input  wire [K-2:0]             sel,
    input  wire                     neg,
    input  wire [WB_W-1:0]          bidx,
    output reg  [15:0]              acc
);
    wire [15:0] entry = table_i[sel*16 +: 16];
    wire [5:0]  e2    = {1'b0, entry[14:10]} + {{(6 - WB_W){1'b0}}, bidx};
    wire [15:0] scaled = (entry[14:10] == 5'd0) ? 16'h0000
                       : (e2 >= 6'd31) ? {entry[15], 5'h1f, 10'd0}
                       : {entry[15], e2[4:0], entry[9:0]};
    wire [15:0] term = {scaled[15] ^ neg, scaled[14:0]};
    wire [15:0] sum;

    fp16_add u_add (.a(acc), .b(term), .y(sum));

    always @(posedge clk) begin
        if (en) acc <= clear ? term : sum;
    end
endmodule
