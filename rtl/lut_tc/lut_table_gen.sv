// LUT Tensor Core table precompute for one group of K signed activations (symmetric tables).
//
// Stores only the 2^(K-1) entries whose top pattern bit is 0 (paper Eq. 4-5): entry e is
// sum_{k<K-1} (e_k ? +a_k : -a_k) - a_{K-1}; the other half are their negations, recovered by the
// lookup's conditional negate.  Built in Gray-code order, one adder per entry:
//   entry 0 = -(a_0 + ... + a_{K-1})                         (K-1 adders and a negate)
//   entry e = entry(e with its lowest set bit j cleared) + 2 a_j   (one adder each)
// so 2^(K-1) + K - 2 adders in all, the count the cycle model charges (cosim.hw.lut_tc.precompute_adds).
// Every entry is computed in TW bits: TW must hold K * 2^(AW-1) (11 bits for K=4, INT8), or the
// all-minimum group wraps (see tests/rtl/lut_tc: the TW=10 build is caught by the bench).
module lut_table_gen #(
    parameter integer K  = 4,   // activations per table (2..8)
    parameter integer AW = 8,   // activation width, two's complement
    parameter integer TW = 11   // table entry width, two's complement (>= AW + 1)
) (
    input  wire [K*AW-1:0]          act,      // activation k at [k*AW +: AW]
    output wire [(1<<(K-1))*TW-1:0] table_o   // entry e at [e*TW +: TW]
);
    localparam integer E = 1 << (K - 1);

    // index of the lowest set bit of v (v > 0)
    function automatic integer lsb_index(input integer v);
        integer i;
        begin
            lsb_index = 0;
            for (i = K - 1; i >= 0; i = i - 1)
                if (((v >> i) & 1) != 0) lsb_index = i;
        end
    endfunction

    wire signed [TW-1:0] a_ext [0:K-1];
    wire signed [TW-1:0] partial [0:K-1] /* verilator split_var */;
    wire signed [TW-1:0] ent [0:E-1] /* verilator split_var */;

    genvar k, e;
    generate
        for (k = 0; k < K; k = k + 1) begin : g_ext
            assign a_ext[k] = {{(TW - AW){act[k*AW + AW - 1]}}, act[k*AW +: AW]};
            if (k == 0) begin : g_first
                assign partial[k] = a_ext[k];
            end else begin : g_rest
                assign partial[k] = partial[k-1] + a_ext[k];
            end
        end
        assign ent[0] = -partial[K-1];
        for (e = 1; e < E; e = e + 1) begin : g_ent
            assign ent[e] = ent[e & (e - 1)] + (a_ext[lsb_index(e)] <<< 1);
        end
        for (e = 0; e < E; e = e + 1) begin : g_out
            assign table_o[e*TW +: TW] = ent[e];
        end
    endgenerate
endmodule
