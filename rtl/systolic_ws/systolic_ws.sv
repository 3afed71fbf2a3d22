// systolic_ws: weight-stationary ROWS x COLS systolic array with a start/done handshake.
//
// GEMM C[M,N] = A[M,K] B[K,N] with runtime M, N, K.  SCALE-Sim's WS mapping: K on rows, N on
// columns, M temporal.  A fold is a ROWS x COLS weight block B[k0.., n0..]; folds go n0 outer, k0
// inner, back to back.  Each fold takes SCALE-Sim's 2*ROWS + COLS + M - 2 cycles: ROWS cycles to
// write the weights (row r in cycle r), then M activation rows A[m, k0..] enter the array skewed by
// row, and the last partial sum leaves the bottom of the last column M + ROWS + COLS - 2 cycles later.
// The array emits partial sums over each K block (SCALE-Sim writes partial sums per K fold, ofmap
// writes M*N*ceil(K/R)); accumulating them across k0 is the output buffer's job (the bench's here).
//
// Operand ports (a synchronous SRAM whose address register is the rd_* outputs): while w_rd_en the
// bench drives w_vec = B[rd_k, rd_n0 + j]; while a_rd_en it drives a_vec = A[rd_m, rd_k + r]
// (rd_k = k0 then); zeros outside the matrices.  Column j's partial sums leave in order of m on
// out_valid[j]/out_data[j], one register after the column's adder (the one final add of OPT1 PEs).
//
// Timing (checked by tests/rtl/systolic_ws against cosim.hw.systolic_rtl): from the rising edge
// that samples `start` to the one raising `done` there are folds * (2*ROWS + COLS + M - 2) + 1
// cycles: the systolic model's native count + 1 (the output register), or SCALE-Sim's count (that
// product minus 1) + 2.
module systolic_ws #(
    parameter integer ROWS  = 4,                    // PE rows (reduction depth per fold)
    parameter integer COLS  = 4,                    // PE columns (output columns per fold)
    parameter integer W     = 8,                    // operand width (two's complement)
    parameter integer ACC_W = 2*W + $clog2(ROWS),   // partial-sum width: 2W + ceil(log2 ROWS), derived
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
    output wire                   w_rd_en,
    output wire                   a_rd_en,
    output wire [DIM_W-1:0]       rd_k,
    output wire [DIM_W-1:0]       rd_n0,
    output wire [DIM_W-1:0]       rd_m,
    input  wire [COLS*W-1:0]      w_vec,       // column j in bits [j*W +: W]
    input  wire [ROWS*W-1:0]      a_vec,       // row r in bits [r*W +: W]
    output reg  [COLS-1:0]        out_valid,
    output reg  [COLS*ACC_W-1:0]  out_data     // column j in bits [j*ACC_W +: ACC_W]
);
    localparam integer CNT_W = DIM_W + $clog2(2*ROWS + COLS + 1);

    // ------------------------------------------------------------------ control
    // Kept off the critical path: phases are registered flags, fold end an equality test against a
    // register set at start, and "last fold" decisions and next-fold counters are registered a cycle after the
    // fold counters change (a fold lasts 2*ROWS + COLS + M - 2 >= 2 cycles; ROWS + COLS >= 3 is required).
    reg             running, loading, streaming;
    reg [DIM_W-1:0] kk, k0, n0, k_rem, n_rem, k_idx, m_idx, m_last_idx;
    reg [CNT_W-1:0] cnt, t_last;
    reg             k_last, n_last;        // this is the last K block / column fold
    reg [DIM_W-1:0] k0_nx, n0_nx, k_rem_nx, n_rem_nx;  // the next fold's counters, precomputed
    reg             fin0;

    assign w_rd_en = loading;
    assign a_rd_en = streaming;
    assign rd_k    = loading ? k_idx : k0;
    assign rd_n0   = n0;
    assign rd_m    = m_idx;
    assign busy    = running | fin0;

    always @(posedge clk) begin
        k_last   <= (k_rem <= ROWS);
        n_last   <= (n_rem <= COLS);
        k0_nx    <= k0 + ROWS;
        n0_nx    <= n0 + COLS;
        k_rem_nx <= k_rem - ROWS;
        n_rem_nx <= n_rem - COLS;
        if (rst) begin
            running   <= 1'b0;
            loading   <= 1'b0;
            streaming <= 1'b0;
            fin0      <= 1'b0;
            done      <= 1'b0;
        end else begin
            fin0 <= 1'b0;
            done <= fin0;
            if (!busy && start) begin
                running    <= 1'b1;
                loading    <= 1'b1;
                kk         <= k_len;
                k_rem      <= k_len;
                n_rem      <= n_len;
                k0         <= 0;
                n0         <= 0;
                k_idx      <= 0;
                m_idx      <= 0;
                m_last_idx <= m_len - 1'b1;
                cnt        <= 0;
                t_last     <= 2*ROWS + COLS + m_len - 3;
            end else if (running) begin
                cnt <= cnt + 1'b1;
                if (loading) begin                      // row cnt of the weights is being written
                    k_idx <= k_idx + 1'b1;
                    if (cnt == ROWS - 1) begin
                        loading   <= 1'b0;
                        streaming <= 1'b1;
                    end
                end
                if (streaming) begin                    // activation row m_idx is being read
                    m_idx <= m_idx + 1'b1;
                    if (m_idx == m_last_idx) streaming <= 1'b0;
                end
                if (cnt == t_last) begin                // fold done: next fold, or finish
                    cnt   <= 0;
                    m_idx <= 0;
                    if (k_last && n_last) begin
                        running <= 1'b0;
                        fin0    <= 1'b1;
                    end else begin
                        loading <= 1'b1;
                        if (k_last) begin
                            k0    <= 0;
                            k_idx <= 0;
                            k_rem <= kk;
                            n0    <= n0_nx;
                            n_rem <= n_rem_nx;
                        end else begin
                            k0    <= k0_nx;
                            k_idx <= k0_nx;
                            k_rem <= k_rem_nx;
                        end
                    end
                end
            end
        end
    end

    // ------------------------------------------------------------------ input skew (activations)
    wire [ROWS*(W+1)-1:0] a_skewed;
    genvar i, j;
    generate
        for (i = 0; i < ROWS; i = i + 1) begin : g_askew
            wire [W:0] x = {streaming, a_vec[i*W +: W]};
            if (i == 0) begin : g_d0
                assign a_skewed[0 +: W+1] = x;
            end else begin : g_dn
                reg [i*(W+1)-1:0] line;
                if (i == 1) begin : g_one
                    always @(posedge clk) line <= rst ? {(W+1){1'b0}} : x;
                end else begin : g_many
                    always @(posedge clk) line <= rst ? {(i*(W+1)){1'b0}} : {line[(i-1)*(W+1)-1:0], x};
                end
                assign a_skewed[i*(W+1) +: W+1] = line[(i-1)*(W+1) +: W+1];
            end
        end
    endgenerate

    // ------------------------------------------------------------------ PE grid
    // PE(i,j) takes its activation from PE(i,j-1) and its partial sum from PE(i-1,j); the links
    // are the PEs' own output nets (g_row[i].g_col[j].*), so simulators wake only the reader.
    generate
        for (i = 0; i < ROWS; i = i + 1) begin : g_row
            wire row_we = loading && (cnt == i);
            for (j = 0; j < COLS; j = j + 1) begin : g_col
                wire [W:0]       hi;                  // {vld, a} from the left
                wire [ACC_W-1:0] psi_s, psi_c;        // partial sum from above
                wire [W-1:0]     a_o;
                wire             vld_o;
                wire [ACC_W-1:0] pso_s, pso_c;
                if (j == 0) begin : g_hl
                    assign hi = a_skewed[i*(W+1) +: W+1];
                end else begin : g_hn
                    assign hi = {g_row[i].g_col[j-1].vld_o, g_row[i].g_col[j-1].a_o};
                end
                if (i == 0) begin : g_vt
                    assign psi_s = {ACC_W{1'b0}};
                    assign psi_c = {ACC_W{1'b0}};
                end else begin : g_vn
                    assign psi_s = g_row[i-1].g_col[j].pso_s;
                    assign psi_c = g_row[i-1].g_col[j].pso_c;
                end
                ws_cell #(.W(W), .ACC_W(ACC_W), .PE(PE)) u_pe (
                    .clk(clk), .rst(rst),
                    .w_we(row_we), .w_in(w_vec[j*W +: W]),
                    .a_in(hi[W-1:0]), .vld_in(hi[W]),
                    .a_out(a_o), .vld_out(vld_o),
                    .ps_in_s(psi_s), .ps_in_c(psi_c),
                    .ps_out_s(pso_s), .ps_out_c(pso_c)
                );
            end
        end
        // ------------------------------------------------------------------ output path
        // The bottom PE's valid flag travels with its activation, aligned with its partial sum.
        for (j = 0; j < COLS; j = j + 1) begin : g_out
            always @(posedge clk) begin
                out_valid[j] <= rst ? 1'b0 : g_row[ROWS-1].g_col[j].vld_o;
                out_data[j*ACC_W +: ACC_W] <= g_row[ROWS-1].g_col[j].pso_s   // OPT1's one final add
                                            + g_row[ROWS-1].g_col[j].pso_c;  // (MAC: + 0)
            end
        end
    endgenerate
endmodule
