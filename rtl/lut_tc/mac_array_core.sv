// MAC array of the same shape and throughput as lut_array_core at 1-bit weights: M x N MAC
// dot-product units of K products each, activations broadcast along rows, weights along columns.
module mac_array_core #(
    parameter integer M     = 2,   // rows
    parameter integer N     = 4,   // columns
    parameter integer K     = 4,   // products per unit per cycle
    parameter integer AW    = 8,   // activation width
    parameter integer WW    = 8,   // weight width
    parameter integer ACC_W = 32   // accumulator width
) (
    input  wire                 clk,
    input  wire                 en,
    input  wire                 clear,
    input  wire [M*K*AW-1:0]    act,     // row m at [m*K*AW +: K*AW]
    input  wire [N*K*WW-1:0]    wgt,     // column n at [n*K*WW +: K*WW]
    output wire [M*N*ACC_W-1:0] result   // (m, n) at [(m*N + n)*ACC_W +: ACC_W]
);
    genvar m, n;
    generate
        for (m = 0; m < M; m = m + 1) begin : g_row
            for (n = 0; n < N; n = n + 1) begin : g_col
                wire signed [ACC_W-1:0] acc;
                mac_dp #(.K(K), .AW(AW), .WW(WW), .ACC_W(ACC_W)) u_dp (
                    .clk(clk), .en(en), .clear(clear),
                    .act(act[m*K*AW +: K*AW]), .wgt(wgt[n*K*WW +: K*WW]), .acc(acc)
                );
                assign result[(m*N + n)*ACC_W +: ACC_W] = acc;
            end
        end
    endgenerate
endmodule
