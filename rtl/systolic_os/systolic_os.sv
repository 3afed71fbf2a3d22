// systolic_os: output-stationary ROWS x COLS systolic array with a start/done handshake.
//
// GEMM C[M,N] = A[M,K] B[K,N] with runtime M, N, K (K <= K_MAX).  The array computes one fold
// (an output tile of ROWS x COLS, SCALE-Sim's OS mapping: M on rows, N on columns, K temporal) at a
// time, folds in row-major order (m0 outer, n0 inner), back to back.  Per fold it reads K operand
// pairs {A[m0.., k], B[k, n0..]}, one per cycle, and then idles until ROWS + COLS + K - 2 cycles
// have passed: SCALE-Sim's OS fold length, during which the skewed wavefront reaches PE(R-1,C-1).
//
// Operand port (models a synchronous SRAM whose address register is rd_*): while rd_en is high the
// bench drives a_vec = A[rd_m0 + i, rd_k] (i < ROWS) and b_vec = B[rd_k, rd_n0 + j] (j < COLS) before
// the next rising edge, with zeros outside the matrices.  Results: column j's outputs leave in row
// order; out_valid[j] marks out_data[j] = C[m0 + i, n0 + j].  Output path: one register after a
// column's one-hot select of the finished PE, one register after the column adder (the one final
// add of OPT1 PEs; a pass-through add of zero for MAC PEs).
//
// Timing (checked by tests/rtl/systolic_os against cosim.hw.systolic_rtl): from the rising edge that
// samples `start` to the one that raises `done` (a one-cycle pulse, after the last result) there are
// folds * (ROWS + COLS + K - 2) + 2 cycles: the systolic model's native count + 2 (the two output
// registers), or SCALE-Sim's count (that product minus 1) + 3.
module systolic_os #(
    parameter integer ROWS  = 4,                    // PE rows (output rows per fold)
    parameter integer COLS  = 4,                    // PE columns (output columns per fold)
    parameter integer W     = 8,                    // operand width (two's complement)
    parameter integer K_MAX = 64,                   // longest reduction (runtime K must not exceed it)
    parameter integer ACC_W = 2*W + $clog2(K_MAX),  // accumulator width: 2W + ceil(log2 K_MAX), derived
    parameter integer PE    = 0,                    // 0: baseline MAC PEs, 1: OPT1 carry-save PEs
    parameter integer DIM_W = 16                    // width of the runtime M, N, K ports
) (
    input  wire                   clk,
    input  wire                   rst,         // synchronous, active high
    input  wire                   start,       // sampled while idle: latches m_len, n_len, k_len
    input  wire [DIM_W-1:0]       m_len,
    input  wire [DIM_W-1:0]       n_len,
    input  wire [DIM_W-1:0]       k_len,
    output wire                   busy,
    output reg                    done,
    output wire                   rd_en,
    output wire [DIM_W-1:0]       rd_m0,
    output wire [DIM_W-1:0]       rd_n0,
    output wire [DIM_W-1:0]       rd_k,
    input  wire [ROWS*W-1:0]      a_vec,       // row i in bits [i*W +: W]
    input  wire [COLS*W-1:0]      b_vec,       // column j in bits [j*W +: W]
    output reg  [COLS-1:0]        out_valid,
    output reg  [COLS*ACC_W-1:0]  out_data     // column j in bits [j*ACC_W +: ACC_W]
);
    localparam integer CNT_W = $clog2(ROWS + COLS + K_MAX + 1);


    // ------------------------------------------------------------------ control
    // Kept off the critical path: fold-end and read-end are equality tests against registers set
    // at start, and "last fold" flags and next-fold counters are registered a cycle after the fold
    // counters change (a fold lasts ROWS + COLS + K - 2 >= 2 cycles; ROWS + COLS >= 3 is required).
    reg             running, rd_on;
    reg [DIM_W-1:0] nn, m0, n0, m_rem, n_rem, k_last;
    reg [CNT_W-1:0] cnt, t_last;
    reg             m_last, n_last;        // this is the last row / column fold
    reg [DIM_W-1:0] m0_nx, n0_nx, m_rem_nx, n_rem_nx;  // the next fold's counters, precomputed
    reg             fin0, fin1;

    assign rd_en = rd_on;
    assign rd_k  = cnt;
    assign rd_m0 = m0;
    assign rd_n0 = n0;
    assign busy  = running | fin0 | fin1;

    always @(posedge clk) begin
        m_last   <= (m_rem <= ROWS);
        n_last   <= (n_rem <= COLS);
        m0_nx    <= m0 + ROWS;
        n0_nx    <= n0 + COLS;
        m_rem_nx <= m_rem - ROWS;
        n_rem_nx <= n_rem - COLS;
        if (rst) begin
            running <= 1'b0;
            rd_on   <= 1'b0;
            fin0    <= 1'b0;
            fin1    <= 1'b0;
            done    <= 1'b0;
        end else begin
            fin0 <= 1'b0;
            fin1 <= fin0;
            done <= fin1;
            if (!busy && start) begin
                running <= 1'b1;
                rd_on   <= 1'b1;
                nn      <= n_len;
                m_rem   <= m_len;
                n_rem   <= n_len;
                k_last  <= k_len - 1'b1;
                m0      <= 0;
                n0      <= 0;
                cnt     <= 0;
                t_last  <= ROWS + COLS + k_len - 3;
            end else if (running) begin
                if (cnt == k_last) rd_on <= 1'b0;
                if (cnt == t_last) begin
                    cnt <= 0;
                    if (m_last && n_last) begin
                        running <= 1'b0;
                        fin0    <= 1'b1;
                    end else begin
                        rd_on <= 1'b1;
                        if (n_last) begin
                            n0    <= 0;
                            n_rem <= nn;
                            m0    <= m0_nx;
                            m_rem <= m_rem_nx;
                        end else begin
                            n0    <= n0_nx;
                            n_rem <= n_rem_nx;
                        end
                    end
                end else begin
                    cnt <= cnt + 1'b1;
                end
            end
        end
    end

    // Flags travelling with the operands of step rd_k.
    wire f_vld   = rd_on;
    wire f_first = (cnt == 0);
    wire f_last  = (cnt == k_last);

    // ------------------------------------------------------------------ input skew
    // Row i's activations (and flags) are delayed i cycles, column j's weights j cycles.
    wire [ROWS*(W+3)-1:0] a_skewed;
    wire [COLS*W-1:0]     b_skewed;
    genvar i, j;
    generate
        for (i = 0; i < ROWS; i = i + 1) begin : g_askew
            wire [W+2:0] x = {f_last, f_first, f_vld, a_vec[i*W +: W]};
            if (i == 0) begin : g_d0
                assign a_skewed[0 +: W+3] = x;
            end else begin : g_dn
                reg [i*(W+3)-1:0] line;
                if (i == 1) begin : g_one
                    always @(posedge clk) line <= rst ? {(W+3){1'b0}} : x;
                end else begin : g_many
                    always @(posedge clk) line <= rst ? {(i*(W+3)){1'b0}} : {line[(i-1)*(W+3)-1:0], x};
                end
                assign a_skewed[i*(W+3) +: W+3] = line[(i-1)*(W+3) +: W+3];
            end
        end
        for (j = 0; j < COLS; j = j + 1) begin : g_bskew
            if (j == 0) begin : g_d0
                assign b_skewed[0 +: W] = b_vec[0 +: W];
            end else begin : g_dn
                reg [j*W-1:0] line;
                if (j == 1) begin : g_one
                    always @(posedge clk) line <= b_vec[j*W +: W];
                end else begin : g_many
                    always @(posedge clk) line <= {line[(j-1)*W-1:0], b_vec[j*W +: W]};
                end
                assign b_skewed[j*W +: W] = line[(j-1)*W +: W];
            end
        end
    endgenerate

    // ------------------------------------------------------------------ PE grid
    // PE(i,j) takes its activation (and flags) from PE(i,j-1) and its weight from PE(i-1,j); the
    // links are the PEs' own output nets (g_row[i].g_col[j].*), so simulators wake only the reader.
    generate
        for (i = 0; i < ROWS; i = i + 1) begin : g_row
            for (j = 0; j < COLS; j = j + 1) begin : g_col
                wire [W+2:0]     hi;                  // {last, first, vld, a} from the left
                wire [W-1:0]     vi;                  // b from above
                wire [W-1:0]     a_o, b_o;
                wire             vld_o, first_o, last_o;
                wire [ACC_W-1:0] rs, rc;
                if (j == 0) begin : g_hl
                    assign hi = a_skewed[i*(W+3) +: W+3];
                end else begin : g_hn
                    assign hi = {g_row[i].g_col[j-1].last_o, g_row[i].g_col[j-1].first_o,
                                 g_row[i].g_col[j-1].vld_o, g_row[i].g_col[j-1].a_o};
                end
                if (i == 0) begin : g_vt
                    assign vi = b_skewed[j*W +: W];
                end else begin : g_vn
                    assign vi = g_row[i-1].g_col[j].b_o;
                end
                os_cell #(.W(W), .ACC_W(ACC_W), .PE(PE)) u_pe (
                    .clk(clk), .rst(rst),
                    .a_in(hi[W-1:0]), .vld_in(hi[W]), .first_in(hi[W+1]), .last_in(hi[W+2]),
                    .b_in(vi),
                    .a_out(a_o), .vld_out(vld_o), .first_out(first_o), .last_out(last_o),
                    .b_out(b_o), .res_s(rs), .res_c(rc)
                );
            end
        end
    endgenerate

    // ------------------------------------------------------------------ output path
    // PE(i,j) finishes one cycle after PE(i-1,j), so at most one PE per column is finished in any
    // cycle: an AND-OR select picks it.  Stage 1 registers the (carry-save) value, stage 2 the sum.
    generate
        for (j = 0; j < COLS; j = j + 1) begin : g_out
            wire [ROWS*ACC_W-1:0] col_s, col_c;    // this column's PE results, masked by last_o
            wire [ROWS-1:0]       col_v;
            for (i = 0; i < ROWS; i = i + 1) begin : g_r
                assign col_v[i] = g_row[i].g_col[j].last_o;
                assign col_s[i*ACC_W +: ACC_W] = g_row[i].g_col[j].rs & {ACC_W{g_row[i].g_col[j].last_o}};
                assign col_c[i*ACC_W +: ACC_W] = g_row[i].g_col[j].rc & {ACC_W{g_row[i].g_col[j].last_o}};
            end
            reg [ACC_W-1:0] sel_s, sel_c;
            integer r;
            always @(*) begin
                sel_s = {ACC_W{1'b0}};
                sel_c = {ACC_W{1'b0}};
                for (r = 0; r < ROWS; r = r + 1) begin
                    sel_s = sel_s | col_s[r*ACC_W +: ACC_W];
                    sel_c = sel_c | col_c[r*ACC_W +: ACC_W];
                end
            end
            reg             s1_v;
            reg [ACC_W-1:0] s1_s, s1_c;
            always @(posedge clk) begin
                s1_s <= sel_s;
                s1_c <= sel_c;
                s1_v <= rst ? 1'b0 : |col_v;
                out_data[j*ACC_W +: ACC_W] <= s1_s + s1_c;   // OPT1's one final add (MAC: + 0)
                out_valid[j] <= rst ? 1'b0 : s1_v;
            end
        end
    endgenerate
endmodule
