// IEEE 754 binary16 multiplier, combinational, round to nearest even; DAZ/FTZ and overflow to
// infinity as in fp16_add.sv.  11 x 11 mantissa product, exponent add, one-bit normalisation.
module fp16_mul (
    input  wire [15:0] a,
    input  wire [15:0] b,
    output reg  [15:0] y
);
    wire        sign = a[15] ^ b[15];
    wire [4:0]  ea = a[14:10];
    wire [4:0]  eb = b[14:10];
    wire [21:0] p  = {1'b1, a[9:0]} * {1'b1, b[9:0]};

    reg  signed [6:0] e;
    reg  [10:0] m;
    reg         g, st, up;
    reg  [11:0] mr;
    always @* begin
        e = $signed({2'b00, ea}) + $signed({2'b00, eb}) - 7'sd15;
        if (p[21]) begin
            m = p[21:11];
            g = p[10];
            st = |p[9:0];
            e = e + 7'sd1;
        end else begin
            m = p[20:10];
            g = p[9];
            st = |p[8:0];
        end
        up = g & (st | m[0]);
        mr = {1'b0, m} + {11'd0, up};
        if (mr[11]) begin
            mr = mr >> 1;
            e = e + 7'sd1;
        end
        if (ea == 0 || eb == 0) y = {sign, 15'd0};
        else if (e >= 7'sd31) y = {sign, 5'h1f, 10'd0};
        else if (e <= 7'sd0) y = {sign, 15'd0};
        else y = {sign, e[4:0], mr[9:0]};
    end
endmodule
