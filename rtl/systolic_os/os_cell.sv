// os_cell: one processing element of the output-stationary systolic array (systolic_os).
//
// Activations (with their control flags) move right and weights move down, one PE per cycle; the
// PE accumulates a_in * b_in into its stationary accumulator whenever vld_in.  `first_in` restarts
// the accumulator (new output tile), `last_in` marks the final MAC: the cycle after it, last_out is
// high and res_s (+ res_c) holds the finished output.
//   PE = 0  baseline MAC: acc <= acc + a*b (carry-propagate adder on the loop); res_c = 0.
//   PE = 1  OPT1: carry-save accumulator (opt1_madd); res_s + res_c is the output, added once
//           per output column outside the array.
module os_cell #(
    parameter integer W     = 8,    // operand width (two's complement)
    parameter integer ACC_W = 22,   // accumulator width (systolic_os derives it)
    parameter integer PE    = 0     // 0: baseline MAC PE, 1: OPT1 carry-save PE
) (
    input  wire             clk,
    input  wire             rst,
    input  wire [W-1:0]     a_in,
    input  wire             vld_in,
    input  wire             first_in,
    input  wire             last_in,
    input  wire [W-1:0]     b_in,
    output reg  [W-1:0]     a_out,
    output reg              vld_out,
    output reg              first_out,
    output reg              last_out,
    output reg  [W-1:0]     b_out,
    output wire [ACC_W-1:0] res_s,
    output wire [ACC_W-1:0] res_c
);
    always @(posedge clk) begin
        a_out     <= a_in;
        b_out     <= b_in;
        first_out <= first_in;
        vld_out   <= rst ? 1'b0 : vld_in;
        last_out  <= rst ? 1'b0 : (vld_in & last_in);
    end

    generate
        if (PE == 0) begin : g_mac
            reg signed [ACC_W-1:0] acc;
            wire signed [ACC_W-1:0] base = first_in ? {ACC_W{1'b0}} : acc;
            always @(posedge clk) if (vld_in) acc <= base + $signed(a_in) * $signed(b_in);
            assign res_s = acc;
            assign res_c = {ACC_W{1'b0}};
        end else begin : g_opt1
            reg  [ACC_W-1:0] acc_s, acc_c;
            wire [ACC_W-1:0] nxt_s, nxt_c;
            opt1_madd #(.W(W), .OUT_W(ACC_W)) u_madd (
                .a(a_in), .b(b_in),
                .x_s(first_in ? {ACC_W{1'b0}} : acc_s),
                .x_c(first_in ? {ACC_W{1'b0}} : acc_c),
                .y_s(nxt_s), .y_c(nxt_c)
            );
            always @(posedge clk) if (vld_in) begin
                acc_s <= nxt_s;
                acc_c <= nxt_c;
            end
            assign res_s = acc_s;
            assign res_c = acc_c;
        end
    endgenerate
endmodule
