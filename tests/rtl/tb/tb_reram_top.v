// Self-checking testbench of reram_top for Icarus Verilog (and any Verilog-2005 simulator).
// Reads, from the working directory: meta.hex (words: image length, samples), image_addr.hex / image_data.hex
// (host-bus writes), beats.hex (per sample, IN_BEATS input-stream beats of IN_CODES codes) and expected.hex (per
// sample: the N_LOGITS 64-bit logits, then the argmax). A driver streams the samples while a host process reads
// each inference's logits when they show ready and acknowledges them. Prints PASS or FAIL lines.
`timescale 1ns / 1ps
`default_nettype none

module tb_reram_top;

`include "reram_params.vh"
`include "reram_addrmap.vh"

    localparam MAXW = 65536;      // largest image / beat / expected file, in lines
    localparam DW = IN_CODES * XW;

    reg           clk = 1'b0;
    reg           rst = 1'b1;
    reg           we = 1'b0;
    reg  [31:0]   addr = 32'd0;
    reg  [31:0]   wdata = 32'd0;
    wire [31:0]   rdata;
    reg           in_valid = 1'b0;
    reg  [DW-1:0] in_data = {DW{1'b0}};
    wire          in_ready;
    wire          out_ready;
    reg           out_ack = 1'b0;
    wire          busy;
    /* verilator lint_off UNUSEDSIGNAL */
    wire [N_LAYERS*ACT_LANES-1:0]    dbg_we;
    wire [N_LAYERS*ACT_LANES*32-1:0] dbg_addr;
    wire [N_LAYERS*ACT_LANES*32-1:0] dbg_data;
    wire [N_LAYERS-1:0]              dbg_fin;
    /* verilator lint_on UNUSEDSIGNAL */

    reram_top dut (
        .clk(clk), .rst(rst), .host_we(we), .host_addr(addr), .host_wdata(wdata), .host_rdata(rdata),
        .in_valid(in_valid), .in_data(in_data), .in_ready(in_ready), .out_ready(out_ready), .out_ack(out_ack),
        .busy(busy), .dbg_we(dbg_we), .dbg_addr(dbg_addr), .dbg_data(dbg_data), .dbg_fin(dbg_fin)
    );

    always #5 clk = ~clk;

    reg [31:0]   meta [0:7];
    reg [31:0]   img_addr [0:MAXW-1];
    reg [31:0]   img_data [0:MAXW-1];
    reg [DW-1:0] beats [0:MAXW-1];
    reg [63:0]   expected [0:MAXW-1];

    integer cycle = 0;
    always @(posedge clk) cycle <= cycle + 1;

    integer i, s, b, j, errors, start_cycle, first_latency, got;
    reg [31:0] lo, hi, pred;
    reg [63:0] logit;

    initial begin
        $readmemh("meta.hex", meta);
        $readmemh("image_addr.hex", img_addr);
        $readmemh("image_data.hex", img_data);
        $readmemh("beats.hex", beats);
        $readmemh("expected.hex", expected);
        errors = 0;
        got = 0;
        first_latency = -1;
        repeat (4) @(negedge clk);
        rst = 1'b0;
        for (i = 0; i < meta[0]; i = i + 1) begin
            @(negedge clk);
            we = 1'b1;
            addr = img_addr[i];
            wdata = img_data[i];
        end
        @(negedge clk);
        we = 1'b0;
        addr = 32'd0;
        start_cycle = cycle;
        fork
            // the input stream: one beat per cycle while the accelerator is ready
            begin
                for (s = 0; s < meta[1]; s = s + 1) begin
                    for (b = 0; b < IN_BEATS; b = b + 1) begin
                        while (!in_ready) @(negedge clk);
                        in_valid = 1'b1;
                        in_data = beats[s * IN_BEATS + b];
                        @(negedge clk);
                        in_valid = 1'b0;
                    end
                end
            end
            // the host: read each inference's logits and argmax, then acknowledge
            begin
                while (got < meta[1]) begin
                    @(negedge clk);
                    if (out_ready) begin
                        if (got == 0) first_latency = cycle - start_cycle;
                        for (j = 0; j < N_LOGITS; j = j + 1) begin
                            addr = {R_LOGIT, {WORD_W{1'b0}}} | (2 * j);
                            #1 lo = rdata;
                            addr = {R_LOGIT, {WORD_W{1'b0}}} | (2 * j + 1);
                            #1 hi = rdata;
                            logit = {hi, lo};
                            if (logit !== expected[got * (N_LOGITS + 1) + j]) begin
                                $display("FAIL sample %0d output %0d: rtl %h expected %h", got, j, logit,
                                         expected[got * (N_LOGITS + 1) + j]);
                                errors = errors + 1;
                            end
                        end
                        addr = {R_REG, A_PRED};
                        #1 pred = rdata;
                        if ({32'd0, pred} !== expected[got * (N_LOGITS + 1) + N_LOGITS]) begin
                            $display("FAIL sample %0d argmax: rtl %0d expected %0d", got, pred,
                                     expected[got * (N_LOGITS + 1) + N_LOGITS]);
                            errors = errors + 1;
                        end
                        out_ack = 1'b1;
                        @(negedge clk);
                        out_ack = 1'b0;
                        got = got + 1;
                    end
                    if (cycle - start_cycle > 2000000) begin
                        $display("FAIL timeout after %0d samples", got);
                        errors = errors + 1;
                        got = meta[1];
                    end
                end
            end
        join
        if (errors == 0) $display("PASS %0d samples, latency %0d cycles", meta[1], first_latency);
        else $display("FAIL %0d errors", errors);
        $finish;
    end

endmodule

`default_nettype wire
