// Smoke-test block: one registered multiply-accumulate, used to check the simulator setup.
module mac_smoke #(
    parameter integer W = 8,          // operand width (signed)
    parameter integer ACC_W = 20      // accumulator width
) (
    input  wire                    clk,
    input  wire                    rst,
    input  wire                    en,
    input  wire signed [W-1:0]     a,
    input  wire signed [W-1:0]     b,
    output reg  signed [ACC_W-1:0] acc
);
    always @(posedge clk) begin
        if (rst) acc <= 0;
        else if (en) acc <= acc + a * b;
    end
endmodule
