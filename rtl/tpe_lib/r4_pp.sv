// r4_pp: one radix-4 partial product d * b for a digit d in {-2,-1,0,1,2} (format of r4_digits).
//
// The negation -b is computed once per multiplicand by the caller (nb) and shared by all digits,
// so a partial product is a plain 4:1 select: {b, 2b, -b, -2b} or zero.  Range: [-2^W, 2^W],
// hence W+2 bits (cosim.golden.same_weight_reduction_width explains why W+1 is not enough).
module r4_pp #(
    parameter integer W = 8   // multiplicand width (two's complement)
) (
    input  wire [2:0]   dig,  // {neg, two, one}
    input  wire [W-1:0] b,    // multiplicand
    input  wire [W:0]   nb,   // -b, W+1 bits (-(-2^(W-1)) = 2^(W-1))
    output wire [W+1:0] pp    // d * b, two's complement
);
    wire [W+1:0] b1  = {{2{b[W-1]}}, b};
    wire [W+1:0] nb1 = {nb[W], nb};
    wire [W+1:0] mag1 = dig[2] ? nb1 : b1;
    assign pp = dig[1] ? {mag1[W:0], 1'b0} : (dig[0] ? mag1 : {(W+2){1'b0}});
endmodule
