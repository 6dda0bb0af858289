/* NS16550A register model: transmit, receive FIFO, interrupt priorities, the
 * THRE behaviour Linux's 8250 driver probes, loopback, save/load. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "condo/dev_uart16550.h"
#include "state_check.h"

struct sink {
    uint8_t buf[256];
    size_t len;
};

struct irqrec {
    int level;
    unsigned calls;
};

static void sink_write(void *opaque, const uint8_t *buf, size_t len)
{
    struct sink *s = opaque;
    for (size_t i = 0; i < len && s->len < sizeof(s->buf); i++)
        s->buf[s->len++] = buf[i];
}

static void irq_rec(void *opaque, unsigned line, int level)
{
    struct irqrec *r = opaque;
    assert_int_equal(line, 10);
    r->level = level;
    r->calls++;
}

struct fixture {
    struct uart16550 u;
    struct sink out;
    struct irqrec irq;
};

static int setup(void **state)
{
    static struct fixture f;
    memset(&f, 0, sizeof(f));
    f.irq.level = -1;
    uart16550_init(&f.u, (struct irq_line){irq_rec, &f.irq, 10},
                   (struct chardev){sink_write, &f.out});
    *state = &f;
    return 0;
}

static uint8_t rd(struct uart16550 *u, unsigned off)
{
    uint64_t v = 0xdeadbeef;
    uart16550_ops.read(u, off, 1, &v);
    assert_true(v <= 0xff);
    return (uint8_t)v;
}

static void wr(struct uart16550 *u, unsigned off, uint8_t v)
{
    uart16550_ops.write(u, off, 1, v);
}

static void test_reset_state(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(f->irq.level, 0);
    assert_int_equal(rd(&f->u, 1), 0);    /* IER */
    assert_int_equal(rd(&f->u, 2), 0x01); /* IIR: none, FIFOs off */
    assert_int_equal(rd(&f->u, 5), 0x60); /* LSR: THRE|TEMT */
    assert_int_equal(rd(&f->u, 6), 0xb0); /* MSR: DCD|DSR|CTS */
    assert_int_equal(rd(&f->u, 0), 0);    /* empty RBR */
}

static void test_transmit(void **state)
{
    struct fixture *f = *state;
    const char *msg = "hello\n";
    for (const char *p = msg; *p; p++)
        wr(&f->u, 0, (uint8_t)*p);
    assert_int_equal(f->out.len, strlen(msg));
    assert_memory_equal(f->out.buf, msg, strlen(msg));
    assert_int_equal(rd(&f->u, 5) & 0x60, 0x60);
    assert_int_equal(f->irq.level, 0); /* IER is 0 */
}

static void test_divisor_latch(void **state)
{
    struct fixture *f = *state;
    wr(&f->u, 1, 0x05);   /* IER */
    wr(&f->u, 3, 0x83);   /* DLAB | 8N1 */
    wr(&f->u, 0, 0x01);   /* DLL */
    wr(&f->u, 1, 0x02);   /* DLM */
    assert_int_equal(rd(&f->u, 0), 0x01);
    assert_int_equal(rd(&f->u, 1), 0x02);
    assert_int_equal(f->out.len, 0); /* DLL write is not a transmit */
    wr(&f->u, 3, 0x03);
    assert_int_equal(rd(&f->u, 3), 0x03);
    assert_int_equal(rd(&f->u, 1), 0x05); /* IER untouched */
    wr(&f->u, 7, 0x5a);
    assert_int_equal(rd(&f->u, 7), 0x5a); /* scratch */
}

static void test_receive_fifo(void **state)
{
    struct fixture *f = *state;
    uint8_t in[20];
    for (unsigned i = 0; i < sizeof(in); i++)
        in[i] = (uint8_t)('a' + i);

    /* FIFOs off: one holding register. */
    assert_int_equal(uart16550_rx_space(&f->u), 1);
    assert_int_equal(uart16550_receive(&f->u, in, 2), 1);
    assert_int_equal(rd(&f->u, 5) & 0x01, 0x01);
    assert_int_equal(rd(&f->u, 0), 'a');
    assert_int_equal(rd(&f->u, 5) & 0x01, 0);

    wr(&f->u, 2, 0x07); /* enable + clear FIFOs */
    assert_int_equal(uart16550_rx_space(&f->u), 16);
    assert_int_equal(uart16550_receive(&f->u, in, sizeof(in)), 16);
    assert_int_equal(uart16550_rx_space(&f->u), 0);
    assert_int_equal(uart16550_receive(&f->u, in, 1), 0);
    assert_int_equal(f->irq.level, 0); /* not enabled */
    wr(&f->u, 1, 0x01);                /* ERBFI */
    assert_int_equal(f->irq.level, 1);
    assert_int_equal(rd(&f->u, 2), 0xc4); /* FIFOs on, RX data */
    for (unsigned i = 0; i < 16; i++) {
        assert_int_equal(rd(&f->u, 5) & 0x01, 0x01);
        assert_int_equal(rd(&f->u, 0), in[i]);
    }
    assert_int_equal(rd(&f->u, 5) & 0x01, 0);
    assert_int_equal(f->irq.level, 0);
    assert_int_equal(rd(&f->u, 2), 0xc1);

    /* FCR clear-RX drops queued bytes and the interrupt. */
    assert_int_equal(uart16550_receive(&f->u, in, 3), 3);
    assert_int_equal(f->irq.level, 1);
    wr(&f->u, 2, 0x03);
    assert_int_equal(f->irq.level, 0);
    assert_int_equal(rd(&f->u, 5) & 0x01, 0);
    /* Turning FIFOs off resets them too. */
    assert_int_equal(uart16550_receive(&f->u, in, 3), 3);
    wr(&f->u, 2, 0x00);
    assert_int_equal(rd(&f->u, 5) & 0x01, 0);
    assert_int_equal(uart16550_rx_space(&f->u), 1);
}

/* The sequence serial8250_do_startup() runs to detect UART_BUG_THRE: a real
 * 16550 re-asserts THRE when ETBEI is re-enabled while THR is empty. */
static void test_thre_linux_probe(void **state)
{
    struct fixture *f = *state;
    wr(&f->u, 2, 0x01);
    wr(&f->u, 1, 0x02); /* IER = THRI */
    assert_int_equal(f->irq.level, 1);
    uint8_t iir1 = rd(&f->u, 2);
    assert_int_equal(iir1, 0xc2);
    assert_int_equal(f->irq.level, 0); /* reading IIR acknowledged THRE */
    assert_int_equal(rd(&f->u, 2), 0xc1);
    wr(&f->u, 1, 0x00);
    wr(&f->u, 1, 0x02);
    uint8_t iir = rd(&f->u, 2);
    wr(&f->u, 1, 0x00);
    /* Linux sets UART_BUG_THRE if iir1 had an interrupt and iir none. */
    assert_false(!(iir1 & 0x01) && (iir & 0x01));
    assert_int_equal(iir, 0xc2);
    assert_int_equal(f->irq.level, 0);
}

static void test_thre_transmit_cycle(void **state)
{
    struct fixture *f = *state;
    wr(&f->u, 2, 0x01);
    wr(&f->u, 1, 0x02);
    assert_int_equal(f->irq.level, 1);
    /* Interrupt handler: IIR says THRE, fill the FIFO. */
    assert_int_equal(rd(&f->u, 2), 0xc2);
    assert_int_equal(f->irq.level, 0);
    for (int i = 0; i < 16; i++)
        wr(&f->u, 0, 'x');
    /* THR drained at once: THRE is raised again for the next batch. */
    assert_int_equal(f->irq.level, 1);
    /* Writing THR clears a pending THRE before it re-arms. */
    wr(&f->u, 0, 'y');
    assert_int_equal(f->irq.level, 1);
    /* Driver stops TX by clearing ETBEI: line drops. */
    wr(&f->u, 1, 0x00);
    assert_int_equal(f->irq.level, 0);
    assert_int_equal(f->out.len, 17);
    /* Re-writing IER with ETBEI already set does not re-arm. */
    wr(&f->u, 1, 0x02);
    assert_int_equal(rd(&f->u, 2), 0xc2);
    wr(&f->u, 1, 0x02);
    assert_int_equal(rd(&f->u, 2), 0xc1);
}

static void test_priority(void **state)
{
    struct fixture *f = *state;
    wr(&f->u, 2, 0x01);
    wr(&f->u, 1, 0x03); /* ERBFI | ETBEI */
    uint8_t c = 'k';
    assert_int_equal(uart16550_receive(&f->u, &c, 1), 1);
    /* RX data outranks THRE, and reading IIR then keeps THRE pending. */
    assert_int_equal(rd(&f->u, 2), 0xc4);
    assert_int_equal(rd(&f->u, 2), 0xc4);
    assert_int_equal(rd(&f->u, 0), 'k');
    assert_int_equal(f->irq.level, 1);
    assert_int_equal(rd(&f->u, 2), 0xc2);
    assert_int_equal(rd(&f->u, 2), 0xc1);
    assert_int_equal(f->irq.level, 0);
}

static void test_loopback_and_modem(void **state)
{
    struct fixture *f = *state;
    /* Linux autoconfig: MCR = LOOP | OUT2 | RTS must read back DCD | CTS. */
    wr(&f->u, 4, 0x10 | 0x0a);
    assert_int_equal(rd(&f->u, 6) & 0xf0, 0x90);
    wr(&f->u, 4, 0x10 | 0x05); /* DTR | OUT1 */
    assert_int_equal(rd(&f->u, 6) & 0xf0, 0x60);
    /* Loopback transmit lands in RX, not on the wire. */
    wr(&f->u, 2, 0x01);
    wr(&f->u, 0, 'L');
    assert_int_equal(f->out.len, 0);
    assert_int_equal(rd(&f->u, 5) & 0x01, 0x01);
    assert_int_equal(rd(&f->u, 0), 'L');
    /* Modem status interrupt from a delta. */
    (void)rd(&f->u, 6); /* clear deltas */
    wr(&f->u, 1, 0x08); /* EDSSI */
    assert_int_equal(f->irq.level, 0);
    wr(&f->u, 4, 0x10 | 0x02); /* RTS on, DTR off, OUT1 off */
    assert_int_equal(f->irq.level, 1);
    assert_int_equal(rd(&f->u, 2) & 0x0f, 0x00);
    uint8_t msr = rd(&f->u, 6);
    assert_int_equal(msr & 0x0f, 0x01 | 0x02 | 0x04); /* DCTS DDSR TERI */
    assert_int_equal(f->irq.level, 0);
    assert_int_equal(rd(&f->u, 6) & 0x0f, 0);
    /* Leaving loopback restores the idle inputs. */
    wr(&f->u, 1, 0);
    wr(&f->u, 4, 0x0b);
    assert_int_equal(rd(&f->u, 6) & 0xf0, 0xb0);
    wr(&f->u, 0, 'W');
    assert_int_equal(f->out.len, 1);
}

static void test_overrun(void **state)
{
    struct fixture *f = *state;
    wr(&f->u, 4, 0x10); /* loopback, FIFOs off: a second byte overruns */
    wr(&f->u, 0, '1');
    wr(&f->u, 0, '2');
    wr(&f->u, 1, 0x04); /* ELSI */
    assert_int_equal(f->irq.level, 1);
    assert_int_equal(rd(&f->u, 2), 0x06);
    uint8_t lsr = rd(&f->u, 5);
    assert_int_equal(lsr & 0x03, 0x03); /* OE | DR */
    assert_int_equal(rd(&f->u, 5) & 0x02, 0); /* OE cleared by the read */
    assert_int_equal(f->irq.level, 0);
    assert_int_equal(rd(&f->u, 0), '1');
}

static void test_save_load(void **state)
{
    struct fixture *f = *state;
    const uint8_t in[5] = "abcde";
    wr(&f->u, 2, 0x01);
    wr(&f->u, 3, 0x03);
    wr(&f->u, 7, 0x42);
    assert_int_equal(uart16550_receive(&f->u, in, 5), 5);
    assert_int_equal(rd(&f->u, 0), 'a'); /* FIFO head moves off 0 */
    wr(&f->u, 1, 0x01);
    assert_int_equal(f->irq.level, 1);

    struct state_buf s;
    state_init_writer(&s);
    uart16550_ops.save(&f->u, &s);
    assert_int_equal(s.err, 0);

    struct uart16550 u2;
    struct sink out2 = {0};
    struct irqrec irq2 = {.level = -1};
    uart16550_init(&u2, (struct irq_line){irq_rec, &irq2, 10},
                   (struct chardev){sink_write, &out2});
    assert_int_equal(irq2.level, 0);
    struct state_buf r;
    state_init_reader(&r, s.data, s.len);
    assert_int_equal(uart16550_ops.load(&u2, &r), 0);
    assert_int_equal(irq2.level, 1); /* line re-driven after load */
    assert_int_equal(rd(&u2, 7), 0x42);
    assert_int_equal(rd(&u2, 3), 0x03);
    assert_int_equal(rd(&u2, 2), 0xc4);
    for (int i = 1; i < 5; i++)
        assert_int_equal(rd(&u2, 0), in[i]);
    assert_int_equal(irq2.level, 0);
    /* It continues: more input, more interrupts, output to its chardev. */
    assert_int_equal(uart16550_rx_space(&u2), 16);
    assert_int_equal(uart16550_receive(&u2, in, 1), 1);
    assert_int_equal(irq2.level, 1);
    wr(&u2, 0, 'z');
    assert_int_equal(out2.len, 1);

    /* A stream cut anywhere short is rejected, never half-applied. */
    for (size_t cut = 0; cut < s.len; cut++) {
        struct state_buf t;
        state_init_reader(&t, s.data, cut);
        assert_int_equal(uart16550_ops.load(&u2, &t), -EINVAL);
    }
    assert_int_equal(rd(&u2, 7), 0x42);

    /* Unknown version. */
    s.data[0] = 99;
    state_init_reader(&r, s.data, s.len);
    assert_int_equal(uart16550_ops.load(&u2, &r), -EINVAL);
    s.data[0] = 1;
    /* Inconsistent FIFO state: rx_count beyond the FIFO (byte 10+16+1). */
    uint8_t saved = s.data[27];
    s.data[27] = 200;
    state_init_reader(&r, s.data, s.len);
    assert_int_equal(uart16550_ops.load(&u2, &r), -EINVAL);
    s.data[27] = saved;
    s.data[26] = 16; /* rx_head out of range */
    state_init_reader(&r, s.data, s.len);
    assert_int_equal(uart16550_ops.load(&u2, &r), -EINVAL);
    state_free(&s);
}

static void test_reset_op(void **state)
{
    struct fixture *f = *state;
    const uint8_t in[2] = "ab";
    wr(&f->u, 2, 0x01);
    wr(&f->u, 1, 0x0f);
    uart16550_receive(&f->u, in, 2);
    assert_int_equal(f->irq.level, 1);
    uart16550_ops.reset(&f->u);
    assert_int_equal(f->irq.level, 0);
    assert_int_equal(rd(&f->u, 1), 0);
    assert_int_equal(rd(&f->u, 2), 0x01);
    assert_int_equal(rd(&f->u, 5), 0x60);
}

static void test_hostile(void **state)
{
    struct fixture *f = *state;
    static const unsigned sizes[] = {1, 2, 4, 8};
    for (unsigned off = 0; off < UART16550_SIZE + 16; off++) {
        for (unsigned i = 0; i < ARRAY_SIZE(sizes); i++) {
            uint64_t v = 0x1234;
            uart16550_ops.read(&f->u, off, sizes[i], &v);
            if (off >= 8)
                assert_int_equal(v, 0);
            uart16550_ops.write(&f->u, off, sizes[i], 0xffffffffffffffffull);
        }
    }
    uart16550_ops.write(&f->u, 3, 1, 0x03);
    uart16550_ops.write(&f->u, 4, 1, 0x00);
    /* Still a working UART afterwards. */
    size_t before = f->out.len;
    wr(&f->u, 0, 'q');
    assert_int_equal(f->out.len, before + 1);
    assert_true(uart16550_ops.min_access >= 1 && uart16550_ops.max_access <= 8);
}

/* Every truncation and corruption of a busy UART's state: refused and
 * unchanged, or loaded; save-load-save byte-identical. */
static void test_state_hostile(void **state)
{
    struct fixture *f = *state;
    const uint8_t in[3] = "xyz";
    wr(&f->u, 2, 0x01); /* FIFO on */
    wr(&f->u, 3, 0x03);
    wr(&f->u, 1, 0x01);
    assert_int_equal(uart16550_receive(&f->u, in, 3), 3);
    assert_true(state_check_device(&f->u, uart16550_ops.save, uart16550_ops.load) > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_reset_state, setup),
        cmocka_unit_test_setup(test_transmit, setup),
        cmocka_unit_test_setup(test_divisor_latch, setup),
        cmocka_unit_test_setup(test_receive_fifo, setup),
        cmocka_unit_test_setup(test_thre_linux_probe, setup),
        cmocka_unit_test_setup(test_thre_transmit_cycle, setup),
        cmocka_unit_test_setup(test_priority, setup),
        cmocka_unit_test_setup(test_loopback_and_modem, setup),
        cmocka_unit_test_setup(test_overrun, setup),
        cmocka_unit_test_setup(test_save_load, setup),
        cmocka_unit_test_setup(test_reset_op, setup),
        cmocka_unit_test_setup(test_hostile, setup),
        cmocka_unit_test_setup(test_state_hostile, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
