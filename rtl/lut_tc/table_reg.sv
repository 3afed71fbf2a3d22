// Table storage of one LUT array row: a W-bit register with a load enable.  The FP16 LUT lane
// (lut_cell_fp16) reads a table precomputed outside the array (fused into the previous
// element-wise op); this register is its storage, shared by the N lanes of an array row.
module table_reg #(
    parameter integer W = 128  // bits: 2^(K-1) entries x entry width (8 x 16 for K=4, FP16)
) (
    input  wire         clk,
    input  wire         load,
    input  wire [W-1:0] d,
    output reg  [W-1:0] q
);
    always @(posedge clk) begin
        if (load) q <= d;
    end
endmodule
