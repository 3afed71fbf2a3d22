// FP16 MAC dot-product unit of K products per cycle (the paper's "MAC DP4", W_FP16 x A_FP16):
// K fp16 multipliers, a chain of fp16 adders, FP16 accumulation (as the paper's FP16 RTL).
module mac_dp_fp16 #(
    parameter integer K = 4  // products per cycle
) (
    input  wire            clk,
    input  wire            en,
    input  wire            clear,
    input  wire [K*16-1:0] act,   // FP16 activation k at [k*16 +: 16]
    input  wire [K*16-1:0] wgt,   // FP16 weight k at [k*16 +: 16]
    output reg  [15:0]     acc
);
    wire [15:0] prod [0:K-1];
    wire [15:0] sum  [0:K-1];
    wire [15:0] total;
    genvar k;
    generate
        for (k = 0; k < K; k = k + 1) begin : g_mul
            fp16_mul u_mul (.a(act[k*16 +: 16]), .b(wgt[k*16 +: 16]), .y(prod[k]));
            if (k == 0) begin : g_first
                assign sum[k] = prod[k];
            end else begin : g_rest
                fp16_add u_add (.a(sum[k-1]), .b(prod[k]), .y(sum[k]));
            end
        end
    endgenerate
    fp16_add u_acc (.a(acc), .b(sum[K-1]), .y(total));

    always @(posedge clk) begin
        if (en) acc <= clear ? sum[K-1] : total;
    end
endmodule
