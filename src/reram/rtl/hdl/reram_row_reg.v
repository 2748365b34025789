// reram_row_reg: the row input register of one array (digital). Latches the row tile's input codes from the
// input buffer, then presents each row's drive level to the analog macro's row drivers (DACs): the whole code
// (multi-level DAC, SLICE_BITS = XW) or one SLICE_BITS-bit slice of it per array read (bit-serial: 1 bit;
// integrating inputs: the slice whose unit pulses the macro sums). Rows beyond the tile's used rows drive zero.
// Also counts the rows driven with a non-zero level (row activations, an energy event). The DACs themselves are
// analog, inside reram_analog_macro. Synthesizable.
`default_nettype none

module reram_row_reg #(
    parameter ROWS = 128,     // rows per array
    parameter XW = 8,         // input code width (DAC bits)
    parameter SLICE_BITS = 8, // input bits per array read (XW: multi-level; divides XW)
    parameter CNTW = 8        // width of the active-row count (holds ROWS)
) (
    input  wire               clk,
    input  wire               rst,
    input  wire               latch,
    input  wire [ROWS*XW-1:0] codes_in,
    input  wire [CNTW-1:0]    used_rows,
    /* verilator lint_off UNUSEDSIGNAL */
    input  wire [3:0]         bit_sel,     // input slice (unused when SLICE_BITS = XW)
    /* verilator lint_on UNUSEDSIGNAL */
    output wire [ROWS*XW-1:0] drive,
    output reg  [CNTW-1:0]    active_rows
);

    /*verilator no_inline_module*/  // one copy of the code for its many instances (build time)

    reg [ROWS*XW-1:0] codes_reg;

    integer r;
    always @(posedge clk) begin
        if (rst) begin
            codes_reg <= {ROWS*XW{1'b0}};
        end else if (latch) begin
            /*verilator unroll_full*/  // constant row indices: the simulator copies only the used rows
            for (r = 0; r < ROWS; r = r + 1) begin
                codes_reg[r*XW +: XW] <= (r < used_rows) ? codes_in[r*XW +: XW] : {XW{1'b0}};
            end
        end
    end

    genvar g;
    generate
        for (g = 0; g < ROWS; g = g + 1) begin : g_row
            if (SLICE_BITS < XW) begin : g_slice
                assign drive[g*XW +: XW] = {{(XW-SLICE_BITS){1'b0}}, codes_reg[g*XW + bit_sel*SLICE_BITS +: SLICE_BITS]};
            end else begin : g_level
                assign drive[g*XW +: XW] = codes_reg[g*XW +: XW];
            end
        end
    endgenerate

    generate
        if (SLICE_BITS < XW) begin : g_cnt_slice
            // the count depends on the slice presented: counted from the drive levels
            integer j;
            always @(*) begin
                active_rows = {CNTW{1'b0}};
                for (j = 0; j < ROWS; j = j + 1) begin
                    active_rows = active_rows + {{(CNTW-1){1'b0}}, (drive[j*XW +: XW] != {XW{1'b0}})};
                end
            end
        end else begin : g_cnt_level
            // multi-level inputs: the drive levels are the latched codes, so the count is taken when they are
            // latched (a register: the same value, without a count over every row on every cycle)
            reg [CNTW-1:0] level_rows;
            reg [CNTW-1:0] cnt;
            integer q;
            /* verilator lint_off BLKSEQ */
            always @(posedge clk) begin
                if (rst) begin
                    level_rows <= {CNTW{1'b0}};
                end else if (latch) begin
                    cnt = {CNTW{1'b0}};
                    /*verilator unroll_full*/  // constant row indices: the simulator counts only the used rows
                    for (q = 0; q < ROWS; q = q + 1) begin
                        cnt = cnt + {{(CNTW-1){1'b0}},
                                     ((q < used_rows) && (codes_in[q*XW +: XW] != {XW{1'b0}}))};
                    end
                    level_rows <= cnt;
                end
            end
            /* verilator lint_on BLKSEQ */
            always @(*) active_rows = level_rows;
        end
    endgenerate

endmodule

`default_nettype wire
