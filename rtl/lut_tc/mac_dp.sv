// MAC-based dot-product unit (the MAC baseline of the LUT Tensor Core paper, Fig. 12 "MAC DP4"):
// K signed multipliers AW x WW, an adder chain, and an accumulator.  K MACs per cycle, i.e. the
// throughput of one LUT lane (lut_cell) at 1-bit weights.
module mac_dp #(
    parameter integer K     = 4,   // products per cycle
    parameter integer AW    = 8,   // activation width (signed)
    parameter integer WW    = 8,   // weight width (signed; dequantized weights: WW = AW)
    parameter integer ACC_W = 32   // accumulator width
) (
    input  wire                    clk,
    input  wire                    en,
    input  wire                    clear,
    input  wire [K*AW-1:0]         act,   // activation k at [k*AW +: AW]
    input  wire [K*WW-1:0]         wgt,   // weight k at [k*WW +: WW]
    output reg  signed [ACC_W-1:0] acc
);
    wire signed [ACC_W-1:0] prod [0:K-1];
    wire signed [ACC_W-1:0] sum  [0:K-1];
    genvar k;
    generate
        for (k = 0; k < K; k = k + 1) begin : g_mul
            wire signed [AW-1:0] a = act[k*AW +: AW];
            wire signed [WW-1:0] w = wgt[k*WW +: WW];
            wire signed [AW+WW-1:0] p = a * w;
            assign prod[k] = {{(ACC_W - AW - WW){p[AW+WW-1]}}, p};
            if (k == 0) begin : g_first
                assign sum[k] = prod[k];
            end else begin : g_rest
                assign sum[k] = sum[k-1] + prod[k];
            end
        end
    endgenerate

    always @(posedge clk) begin
        if (en) acc <= (clear ? {ACC_W{1'b0}} : acc) + sum[K-1];
    end
endmodule
