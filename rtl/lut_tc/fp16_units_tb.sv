// Bench top for the FP16 units: the adder and multiplier on their own, the FP16 LUT lane and the
// FP16 MAC dot-product unit side by side (one simulator build covers all four).
module fp16_units_tb #(
    parameter integer K    = 4,
    parameter integer WB_W = 3
) (
    input  wire                     clk,
    input  wire [15:0]              op_a,
    input  wire [15:0]              op_b,
    output wire [15:0]              add_y,
    output wire [15:0]              mul_y,
    input  wire                     lut_en,
    input  wire                     lut_clear,
    input  wire [(1<<(K-1))*16-1:0] lut_table,
    input  wire [K-2:0]             lut_sel,
    input  wire                     lut_neg,
    input  wire [WB_W-1:0]          lut_bidx,
    output wire [15:0]              lut_acc,
    input  wire                     mac_en,
    input  wire                     mac_clear,
    input  wire [K*16-1:0]          mac_act,
    input  wire [K*16-1:0]          mac_wgt,
    output wire [15:0]              mac_acc
);
    fp16_add u_add (.a(op_a), .b(op_b), .y(add_y));
    fp16_mul u_mul (.a(op_a), .b(op_b), .y(mul_y));
    lut_cell_fp16 #(.K(K), .WB_W(WB_W)) u_lut (
        .clk(clk), .en(lut_en), .clear(lut_clear), .table_i(lut_table), .sel(lut_sel), .neg(lut_neg),
        .bidx(lut_bidx), .acc(lut_acc)
    );
    mac_dp_fp16 #(.K(K)) u_mac (.clk(clk), .en(mac_en), .clear(mac_clear), .act(mac_act), .wgt(mac_wgt), .acc(mac_acc));
endmodule
