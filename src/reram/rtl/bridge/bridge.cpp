// Flat extern "C" bridge between Python (ctypes) and the Verilated reram_top model.
// Python drives whole batches through rs_run_batch; every call checks its arguments.
#include <cstdint>
#include <cstring>
#include "Vreram_top.h"
#include "verilated.h"
#if VM_TRACE
#if RERAM_TRACE_VCD
#include "verilated_vcd_c.h"
typedef VerilatedVcdC TraceFile;
#else
#include "verilated_fst_c.h"
typedef VerilatedFstC TraceFile;
#endif
#endif

namespace {
struct Sim {
    VerilatedContext* ctx;
    Vreram_top* top;
    uint64_t ticks;
#if VM_TRACE
    TraceFile* tfp;
#endif
};

void tick(Sim* s) {
    s->top->clk = 0;
    s->top->eval();
#if VM_TRACE
    if (s->tfp) s->tfp->dump(2 * s->ticks);
#endif
    s->top->clk = 1;
    s->top->eval();
#if VM_TRACE
    if (s->tfp) s->tfp->dump(2 * s->ticks + 1);
#endif
    s->ticks++;
}

void write_word(Sim* s, uint32_t addr, uint32_t data) {
    s->top->host_we = 1;
    s->top->host_addr = addr;
    s->top->host_wdata = data;
    tick(s);
    s->top->host_we = 0;
}

uint32_t read_word(Sim* s, uint32_t addr) {
    s->top->host_we = 0;
    s->top->host_addr = addr;
    s->top->eval();
    return s->top->host_rdata;
}
}  // namespace

extern "C" {

int rs_abi_version() { return 1; }

void* rs_create() {
    Sim* s = new Sim();
    s->ctx = new VerilatedContext;
    s->top = new Vreram_top{s->ctx};
    s->ticks = 0;
#if VM_TRACE
    s->tfp = nullptr;
#endif
    return s;
}

void rs_destroy(void* h) {
    Sim* s = static_cast<Sim*>(h);
    if (!s) return;
#if VM_TRACE
    if (s->tfp) { s->tfp->close(); delete s->tfp; }
#endif
    s->top->final();
    delete s->top;
    delete s->ctx;
    delete s;
}

int rs_trace_open(void* h, const char* path) {
#if VM_TRACE
    Sim* s = static_cast<Sim*>(h);
    s->ctx->traceEverOn(true);
    s->tfp = new TraceFile;
    s->top->trace(s->tfp, 99);
    s->tfp->open(path);
    return 0;
#else
    (void)h; (void)path;
    return -1;
#endif
}

void rs_trace_close(void* h) {
#if VM_TRACE
    Sim* s = static_cast<Sim*>(h);
    if (s->tfp) { s->tfp->close(); delete s->tfp; s->tfp = nullptr; }
#else
    (void)h;
#endif
}

void rs_reset(void* h) {
    Sim* s = static_cast<Sim*>(h);
    s->top->host_we = 0;
    s->top->host_addr = 0;
    s->top->host_wdata = 0;
    s->top->rst = 1;
    for (int i = 0; i < 4; i++) tick(s);
    s->top->rst = 0;
    tick(s);
}

void rs_write(void* h, uint32_t addr, uint32_t data) { write_word(static_cast<Sim*>(h), addr, data); }

void rs_tick(void* h, int64_t n) {
    Sim* s = static_cast<Sim*>(h);
    for (int64_t i = 0; i < n; i++) tick(s);
}

uint32_t rs_read(void* h, uint32_t addr) { return read_word(static_cast<Sim*>(h), addr); }

int64_t rs_write_block(void* h, const uint32_t* addrs, const uint32_t* data, int64_t n) {
    if (!h || !addrs || !data || n < 0) return -1;
    Sim* s = static_cast<Sim*>(h);
    for (int64_t i = 0; i < n; i++) write_word(s, addrs[i], data[i]);
    return n;
}

// Run n samples. inputs: n x n_in codes (uint16). logits: n x n_out (int64). preds, cycles: n.
// Returns the number of samples completed; on a watchdog timeout it stops there and stores the controller
// state in *hang_state.
int64_t rs_run_batch(void* h, const uint16_t* inputs, int64_t n, int32_t n_in, int32_t n_out, int32_t codes_per_word,
                     int32_t code_bits, int64_t* logits, int32_t* preds, uint32_t* cycles, uint64_t max_cycles,
                     uint32_t* hang_state) {
    if (!h || !inputs || !logits || !preds || !cycles || !hang_state || n < 0 || n_in <= 0 || n_out <= 0 ||
        codes_per_word <= 0 || code_bits <= 0)
        return -1;
    Sim* s = static_cast<Sim*>(h);
    const uint32_t field = 32u / (uint32_t)codes_per_word;
    for (int64_t i = 0; i < n; i++) {
        const uint16_t* x = inputs + i * n_in;
        for (int32_t w = 0; w * codes_per_word < n_in; w++) {
            uint32_t word = 0;
            for (int32_t c = 0; c < codes_per_word; c++) {
                int32_t idx = w * codes_per_word + c;
                if (idx < n_in) word |= ((uint32_t)x[idx] & ((1u << code_bits) - 1u)) << (field * (uint32_t)c);
            }
            write_word(s, 0x08000000u | (uint32_t)w, word);
        }
        write_word(s, 0x00000000u, 1u);  // start
        uint64_t waited = 0;
        while (!(read_word(s, 0x00000001u) & 1u)) {
            if (waited++ >= max_cycles) {
                *hang_state = (read_word(s, 0x00000001u) >> 4) & 0xFu;
                return i;
            }
            tick(s);
        }
        for (int32_t j = 0; j < n_out; j++) {
            uint64_t lo = read_word(s, 0x00000100u + 2u * (uint32_t)j);
            uint64_t hi = read_word(s, 0x00000101u + 2u * (uint32_t)j);
            logits[i * n_out + j] = (int64_t)((hi << 32) | lo);
        }
        preds[i] = (int32_t)read_word(s, 0x00000003u);
        cycles[i] = read_word(s, 0x00000002u);
    }
    return n;
}

void rs_counters(void* h, uint64_t* out, int32_t n) {
    Sim* s = static_cast<Sim*>(h);
    for (int32_t k = 0; k < n; k++) {
        uint64_t lo = read_word(s, 0x00000010u + 2u * (uint32_t)k);
        uint64_t hi = read_word(s, 0x00000011u + 2u * (uint32_t)k);
        out[k] = (hi << 32) | lo;
    }
}

}  // extern "C"
