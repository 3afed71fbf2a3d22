// ws_cell: one processing element of the weight-stationary systolic array (systolic_ws).
//
// The PE holds one weight (written through w_we/w_in while the array loads a fold), passes
// activations right and partial sums down, one PE per cycle: ps_out <= ps_in + a_in * w.
//   PE = 0  baseline MAC: a carry-propagate adder in every PE of the partial-sum chain; ps_*_c unused.
//   PE = 1  OPT1: the partial sum travels down the column as a carry-save pair (opt1_madd); the one
//           final add per column sits below the array.
module ws_cell #(
    parameter integer W     = 8,    // operand width (two's complement)
    parameter integer ACC_W = 19,   // partial-sum width (systolic_ws derives it)
    parameter integer PE    = 0     // 0: baseline MAC PE, 1: OPT1 carry-save PE
) (
    input  wire             clk,
    input  wire             rst,
    input  wire             w_we,
    input  wire [W-1:0]     w_in,
    input  wire [W-1:0]     a_in,
    input  wire             vld_in,
    output reg  [W-1:0]     a_out,
    output reg              vld_out,
    input  wire [ACC_W-1:0] ps_in_s,
    input  wire [ACC_W-1:0] ps_in_c,
    output reg  [ACC_W-1:0] ps_out_s,
    output reg  [ACC_W-1:0] ps_out_c
);
    reg [W-1:0] w;
    always @(posedge clk) begin
        if (w_we) w <= w_in;
        a_out   <= a_in;
        vld_out <= rst ? 1'b0 : vld_in;
    end

    generate
        if (PE == 0) begin : g_mac
            always @(posedge clk) begin
                ps_out_s <= $signed(ps_in_s) + $signed(a_in) * $signed(w);
                ps_out_c <= {ACC_W{1'b0}};
            end
        end else begin : g_opt1
            wire [ACC_W-1:0] nxt_s, nxt_c;
            opt1_madd #(.W(W), .OUT_W(ACC_W)) u_madd (
                .a(a_in), .b(w), .x_s(ps_in_s), .x_c(ps_in_c), .y_s(nxt_s), .y_c(nxt_c));
            always @(posedge clk) begin
                ps_out_s <= nxt_s;
                ps_out_c <= nxt_c;
            end
        end
    endgenerate
endmodule
