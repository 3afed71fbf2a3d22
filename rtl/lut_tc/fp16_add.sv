// IEEE 754 binary16 adder, combinational, round to nearest even.
//
// Subnormal inputs read as zero and subnormal results flush to zero (DAZ/FTZ, a common choice
// for ML datapaths); overflow gives a signed infinity.  Inf/NaN inputs are outside its contract.
// Datapath: swap so |x| >= |y|, align y with guard/round/sticky bits, add or subtract, normalise
// (one right shift, or a leading-zero left shift), round, pack.
module fp16_add (
    input  wire [15:0] a,
    input  wire [15:0] b,
    output reg  [15:0] y
);
    wire        a_big = a[14:0] >= b[14:0];
    wire [15:0] x = a_big ? a : b;      // larger magnitude
    wire [15:0] z = a_big ? b : a;
    wire [4:0]  ex = x[14:10];
    wire [4:0]  ez = z[14:10];
    wire [10:0] mx = (ex == 0) ? 11'd0 : {1'b1, x[9:0]};
    wire [10:0] mz = (ez == 0) ? 11'd0 : {1'b1, z[9:0]};
    wire [4:0]  d  = (ez == 0) ? 5'd0 : ex - ez;

    // align: 11 mantissa bits + guard + round, then sticky from everything shifted further
    wire [25:0] zsh    = {mz, 15'd0} >> d;
    wire        sticky = |zsh[11:0];
    wire [13:0] x14    = {mx, 3'b000};
    wire [13:0] z14    = {zsh[25:13], zsh[12] | sticky};
    wire        sub    = x[15] ^ z[15];
    wire [14:0] s      = sub ? {1'b0, x14} - {1'b0, z14} : {1'b0, x14} + {1'b0, z14};

    integer     i;
    reg  [3:0]  lz;
    reg  [13:0] n;          // normalised: n[13] hidden bit, n[12:3] fraction, n[2:0] guard/round/sticky
    reg  signed [6:0] e;
    reg         up;
    reg  [11:0] mr;
    always @* begin
        lz = 4'd0;
        for (i = 0; i <= 13; i = i + 1)
            if (s[13 - i] == 1'b0 && lz == i[3:0]) lz = lz + 4'd1;
        if (s[14]) begin
            n = {s[14:2], s[1] | s[0]};
            e = $signed({2'b00, ex}) + 7'sd1;
        end else begin
            n = s[13:0] << lz;
            e = $signed({2'b00, ex}) - $signed({3'b000, lz});
        end
        up = n[2] & (n[1] | n[0] | n[3]);
        mr = {1'b0, n[13:3]} + {11'd0, up};
        if (mr[11]) begin
            mr = mr >> 1;
            e = e + 7'sd1;
        end
        if (ex == 0 || s == 15'd0) y = 16'h0000;                          // zero (both zero, or exact cancellation)
        else if (e >= 7'sd31) y = {x[15], 5'h1f, 10'd0};                  // overflow: infinity
        else if (e <= 7'sd0) y = {x[15], 15'd0};                          // underflow: flush to zero
        else y = {x[15], e[4:0], mr[9:0]};
    end
endmodule
