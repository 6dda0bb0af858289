/* fp_ops: single and double precision arithmetic, fused multiply-add,
 * square root, conversions, exact printing (%a and %.17g), libm functions,
 * rounding modes, accrued exception flags, NaN and infinity handling.
 * Both runs execute the same static binary, so glibc's libm is identical:
 * any difference comes from the emulated F/D extension (fcsr, NaN boxing,
 * rounding, flags).  GCC ignores FENV_ACCESS, so the Makefile builds this
 * file with -frounding-math -fsignaling-nans instead. */
#include <fenv.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static int failures;

#define CHECK(cond)                                                        \
	do {                                                               \
		if (!(cond)) {                                             \
			printf("CHECK FAILED line %d: %s\n", __LINE__, #cond); \
			failures++;                                        \
		}                                                          \
	} while (0)

static uint64_t dbits(double d)
{
	uint64_t u;
	memcpy(&u, &d, 8);
	return u;
}
static uint32_t fbits(float f)
{
	uint32_t u;
	memcpy(&u, &f, 4);
	return u;
}

/* Print the accrued flags in a fixed order. */
static void print_flags(const char *what)
{
	int f = fetestexcept(FE_ALL_EXCEPT);
	printf("  %-26s flags:%s%s%s%s%s%s\n", what, f & FE_INVALID ? " NV" : "",
	       f & FE_DIVBYZERO ? " DZ" : "", f & FE_OVERFLOW ? " OF" : "",
	       f & FE_UNDERFLOW ? " UF" : "", f & FE_INEXACT ? " NX" : "",
	       f ? "" : " none");
}

static volatile double vd[] = {
	0.0, -0.0, 1.0, -1.0, 0.1, 1.0 / 3.0, 2.0, 1e308, -1e308, 4.9e-324,
	2.2250738585072014e-308, 123456789.125, -0.75, 3.141592653589793,
};
#define ND (sizeof vd / sizeof vd[0])

static volatile float vf[] = {
	0.0f, -0.0f, 1.0f, -1.0f, 0.1f, 1.0f / 3.0f, 2.0f, 3e38f, -3e38f, 1e-45f,
	1.17549435e-38f, 16777217.0f, -0.75f, 3.14159265f,
};
#define NF (sizeof vf / sizeof vf[0])

static void test_arith(void)
{
	uint64_t acc = 0;
	for (unsigned i = 0; i < ND; i++) {
		for (unsigned j = 0; j < ND; j++) {
			double a = vd[i], b = vd[j];
			acc = acc * 31 + dbits(a + b);
			acc = acc * 31 + dbits(a - b);
			acc = acc * 31 + dbits(a * b);
			acc = acc * 31 + dbits(a / b);
			acc = acc * 31 + dbits(fmin(a, b));
			acc = acc * 31 + dbits(fmax(a, b));
			acc = acc * 31 + (uint64_t)(a < b) + 2 * (uint64_t)(a == b) +
			      4 * (uint64_t)(a <= b);
		}
	}
	printf("double arith digest %016" PRIx64 "\n", acc);
	acc = 0;
	for (unsigned i = 0; i < NF; i++) {
		for (unsigned j = 0; j < NF; j++) {
			float a = vf[i], b = vf[j];
			acc = acc * 31 + fbits(a + b);
			acc = acc * 31 + fbits(a - b);
			acc = acc * 31 + fbits(a * b);
			acc = acc * 31 + fbits(a / b);
			acc = acc * 31 + fbits(fminf(a, b));
			acc = acc * 31 + fbits(fmaxf(a, b));
			acc = acc * 31 + (uint64_t)(a < b) + 2 * (uint64_t)(a == b);
		}
	}
	printf("float arith digest %016" PRIx64 "\n", acc);

	volatile double x = 0.1, y = 0.2;
	printf("0.1+0.2 = %.17g (%a)\n", x + y, x + y);
	volatile float fx = 0.1f, fy = 0.2f;
	printf("0.1f+0.2f = %.9g (%a)\n", (double)(fx + fy), (double)(fx + fy));
	printf("1/3 = %.17g %a\n", vd[5], vd[5]);
	printf("denorm min = %.17g %a\n", vd[9], vd[9]);
	printf("-0.0 = %g, signbit %d\n", vd[1], signbit(vd[1]) != 0);
}

static void test_fma_sqrt(void)
{
	/* fma rounds once: a*b+c where a*b is not representable */
	volatile double a = 1.0 + 0x1p-52, b = 1.0 - 0x1p-52, c = -1.0;
	double fused = fma(a, b, c);
	double unfused = a * b + c;
	printf("fma(1+e,1-e,-1) = %a, unfused = %a\n", fused, unfused);
	CHECK(fused == -0x1p-104);
	volatile float fa = 1.0f + 0x1p-23f, fb = 1.0f - 0x1p-23f, fc = -1.0f;
	printf("fmaf = %a\n", (double)fmaf(fa, fb, fc));
	/* the four fused variants (fmadd, fmsub, fnmsub, fnmadd) */
	volatile double p = 3.25, q = -1.5, r = 0.125;
	printf("fma variants %a %a %a %a\n", fma(p, q, r), fma(p, q, -r), fma(-p, q, r),
	       fma(-p, q, -r));

	uint64_t acc = 0;
	for (int i = 0; i < 2000; i++) {
		volatile double d = i * 0.37 + 1e-3;
		volatile float f = (float)d;
		acc = acc * 17 + dbits(sqrt(d)) + fbits(sqrtf(f));
	}
	printf("sqrt digest %016" PRIx64 "\n", acc);
	printf("sqrt(2) = %.17g, sqrtf(2) = %.9g\n", sqrt(vd[6]), (double)sqrtf(vf[6]));
	feclearexcept(FE_ALL_EXCEPT);
	volatile double neg = -1.0;
	double s = sqrt(neg);
	printf("sqrt(-1) isnan=%d\n", isnan(s) != 0);
	print_flags("sqrt(-1)");
}

static void test_conversions(void)
{
	static volatile double cv[] = {
		0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 1e10, -1e10, 4294967295.9, 4294967296.0,
		9.3e18, -9.3e18, 1e19, 2e19, -1.0, NAN, INFINITY, -INFINITY,
		2147483647.5, -2147483648.5,
	};
	printf("double -> int conversions (C truncation; RISC-V saturates):\n");
	for (unsigned i = 0; i < sizeof cv / sizeof cv[0]; i++) {
		double d = cv[i];
		int64_t l;
		uint64_t ul;
		int64_t w;
		uint64_t wu;
		/* The instructions themselves: C makes out-of-range undefined. */
		feclearexcept(FE_ALL_EXCEPT);
		__asm__ volatile("fcvt.l.d %0, %1, rtz" : "=r"(l) : "f"(d));
		__asm__ volatile("fcvt.lu.d %0, %1, rtz" : "=r"(ul) : "f"(d));
		__asm__ volatile("fcvt.w.d %0, %1, rtz" : "=r"(w) : "f"(d));
		__asm__ volatile("fcvt.wu.d %0, %1, rtz" : "=r"(wu) : "f"(d));
		int f = fetestexcept(FE_ALL_EXCEPT);
		printf("  %-22.17g l=%" PRId64 " lu=%" PRIu64 " w=%" PRId64 " wu=%016" PRIx64
		       " %s%s\n",
		       d, l, ul, w, wu, f & FE_INVALID ? "NV" : "", f & FE_INEXACT ? "NX" : "");
	}
	/* integer -> float rounding */
	volatile int64_t big = (1ll << 53) + 1;
	volatile uint64_t ubig = UINT64_MAX;
	volatile int32_t i32 = -16777217;
	printf("(double)(2^53+1) = %.17g\n", (double)big);
	printf("(double)UINT64_MAX = %.17g\n", (double)ubig);
	printf("(float)-16777217 = %.9g\n", (double)(float)i32);
	printf("(float)(2^53+1) = %.9g\n", (double)(float)big);
	volatile double dd = 1.0000000596046448; /* just above the float midpoint */
	printf("(float)1.0000000596046448 = %a\n", (double)(float)dd);
	volatile float ff = 0x1.fffffep127f;
	printf("(double)FLT_MAX = %.17g\n", (double)ff);
	volatile double huge = 1e300;
	feclearexcept(FE_ALL_EXCEPT);
	float ovf = (float)huge;
	printf("(float)1e300 = %g\n", (double)ovf);
	print_flags("(float)1e300");
	printf("lrint(2.5)=%ld lrint(3.5)=%ld llround(-2.5)=%lld\n", lrint(vd[6] + 0.5),
	       lrint(vd[6] + 1.5), llround(-2.5 + vd[0]));
	printf("trunc/floor/ceil/round(-2.5) = %g %g %g %g\n", trunc(-2.5 + vd[0]),
	       floor(-2.5 + vd[0]), ceil(-2.5 + vd[0]), round(-2.5 + vd[0]));
}

static void test_libm(void)
{
	static const double xs[] = {0.0, 0.5, 1.0, 2.0, 3.0, 10.0, -0.75, 100.5, 1e-8, 709.0};
	for (unsigned i = 0; i < sizeof xs / sizeof xs[0]; i++) {
		volatile double x = xs[i];
		printf("  x=%-6g sin %.17g cos %.17g exp %.17g\n", x, sin(x), cos(x), exp(x));
		printf("  x=%-6g log %.17g pow %.17g atan2 %.17g\n", x, log(x), pow(x, 1.5),
		       atan2(x, 1.5));
	}
	uint64_t acc = 0;
	for (int i = 1; i < 3000; i++) {
		volatile double x = i * 0.01;
		volatile float xf = (float)x;
		acc = acc * 7 + dbits(sin(x)) + dbits(exp(-x)) + dbits(log(x)) +
		      dbits(pow(x, 0.3)) + dbits(tanh(x)) + dbits(cbrt(x)) + fbits(sinf(xf)) +
		      fbits(expf(-xf)) + fbits(logf(xf)) + fbits(powf(xf, 2.5f));
	}
	printf("libm digest %016" PRIx64 "\n", acc);
	printf("pow(2,0.5)=%.17g pow(-8,1/3.)=%g pow(0,-1)=%g\n", pow(vd[6], 0.5),
	       pow(-8.0 + vd[0], 1.0 / 3.0), pow(vd[0], -1.0));
	printf("hypot(3,4)=%.17g fmod(10.5,3)=%g remainder(10.5,3)=%g\n", hypot(3.0 + vd[0], 4.0),
	       fmod(10.5 + vd[0], 3.0), remainder(10.5 + vd[0], 3.0));
	int e;
	double m = frexp(123456789.125 + vd[0], &e);
	printf("frexp -> %.17g * 2^%d, ldexp(1,-1074)=%a\n", m, e, ldexp(1.0 + vd[0], -1074));
}

static void test_rounding_modes(void)
{
	static const struct {
		int mode;
		const char *name;
	} modes[] = {
		{FE_TONEAREST, "nearest"},
		{FE_TOWARDZERO, "toward-zero"},
		{FE_UPWARD, "upward"},
		{FE_DOWNWARD, "downward"},
	};
	for (unsigned i = 0; i < 4; i++) {
		if (fesetround(modes[i].mode) != 0) {
			printf("fesetround(%s) failed\n", modes[i].name);
			failures++;
			continue;
		}
		CHECK(fegetround() == modes[i].mode);
		volatile double one = 1.0, three = 3.0, m = -1.0;
		volatile float fone = 1.0f, fthree = 3.0f;
		double q = one / three, nq = m / three;
		float fq = fone / fthree;
		double s = sqrt(2.0 * one);
		double f = fma(one / three, three, -one);
		printf("%-11s 1/3=%a -1/3=%a f1/3=%a sqrt2=%a fma=%a\n", modes[i].name, q, nq,
		       (double)fq, s, f);
		printf("%-11s rint(2.5)=%g rint(-2.5)=%g nearbyint(0.5)=%g (float)0.1=%a\n",
		       modes[i].name, rint(2.5 * one), rint(-2.5 * one), nearbyint(0.5 * one),
		       (double)(float)(0.1 * one));
		/* fcvt with the dynamic rounding mode */
		long dyn;
		volatile double h = 2.5, nh = -2.5;
		__asm__ volatile("fcvt.l.d %0, %1, dyn" : "=r"(dyn) : "f"(h));
		long dyn2;
		__asm__ volatile("fcvt.l.d %0, %1, dyn" : "=r"(dyn2) : "f"(nh));
		printf("%-11s fcvt.l.d dyn 2.5->%ld -2.5->%ld\n", modes[i].name, dyn, dyn2);
	}
	fesetround(FE_TONEAREST);
	/* static rounding modes in the instruction override fcsr.frm */
	volatile double v = 2.5;
	long rne, rtz, rdn, rup, rmm;
	__asm__ volatile("fcvt.l.d %0, %1, rne" : "=r"(rne) : "f"(v));
	__asm__ volatile("fcvt.l.d %0, %1, rtz" : "=r"(rtz) : "f"(v));
	__asm__ volatile("fcvt.l.d %0, %1, rdn" : "=r"(rdn) : "f"(v));
	__asm__ volatile("fcvt.l.d %0, %1, rup" : "=r"(rup) : "f"(v));
	__asm__ volatile("fcvt.l.d %0, %1, rmm" : "=r"(rmm) : "f"(v));
	printf("static rm 2.5: rne=%ld rtz=%ld rdn=%ld rup=%ld rmm=%ld\n", rne, rtz, rdn, rup,
	       rmm);
	unsigned long frm;
	__asm__ volatile("frrm %0" : "=r"(frm));
	printf("frm after restore = %lu\n", frm);
}

static void test_flags(void)
{
	volatile double z = 0.0, one = 1.0, big = 1e308, tiny = 1e-308, three = 3.0;
	volatile double r;
	feclearexcept(FE_ALL_EXCEPT);
	print_flags("cleared");
	r = one / z;
	print_flags("1/0");
	feclearexcept(FE_ALL_EXCEPT);
	r = z / z;
	print_flags("0/0");
	feclearexcept(FE_ALL_EXCEPT);
	r = big * big;
	print_flags("1e308*1e308");
	feclearexcept(FE_ALL_EXCEPT);
	r = tiny * tiny;
	print_flags("1e-308*1e-308");
	feclearexcept(FE_ALL_EXCEPT);
	r = one / three;
	print_flags("1/3");
	feclearexcept(FE_ALL_EXCEPT);
	r = one + one;
	print_flags("1+1");
	feclearexcept(FE_ALL_EXCEPT);
	volatile float fz = 0.0f, fbig = 3e38f;
	volatile float rf = fbig * fbig;
	rf = 1.0f / fz;
	print_flags("float OF then DZ");
	(void)rf;
	/* accrued flags stay until cleared */
	r = one / three;
	print_flags("plus NX");
	feclearexcept(FE_OVERFLOW);
	print_flags("OF cleared");
	fexcept_t saved;
	fegetexceptflag(&saved, FE_ALL_EXCEPT);
	feclearexcept(FE_ALL_EXCEPT);
	fesetexceptflag(&saved, FE_DIVBYZERO);
	print_flags("restored DZ only");
	feraiseexcept(FE_INVALID | FE_UNDERFLOW);
	print_flags("raised NV UF");
	unsigned long fflags;
	__asm__ volatile("frflags %0" : "=r"(fflags));
	printf("  fflags CSR = 0x%02lx\n", fflags);
	/* feq is a quiet comparison, flt/fle signal on any NaN.  Use the
	 * instructions directly: GCC may wrap `<` in frflags/fsflags. */
	feclearexcept(FE_ALL_EXCEPT);
	volatile double qn = NAN;
	double qnr = qn, oner = one;
	long eq, lt, le;
	__asm__ volatile("feq.d %0, %1, %2" : "=r"(eq) : "f"(qnr), "f"(oner));
	print_flags("feq.d NaN,1 (quiet)");
	__asm__ volatile("flt.d %0, %1, %2" : "=r"(lt) : "f"(qnr), "f"(oner));
	print_flags("flt.d NaN,1 (signaling)");
	feclearexcept(FE_ALL_EXCEPT);
	__asm__ volatile("fle.d %0, %1, %2" : "=r"(le) : "f"(oner), "f"(qnr));
	print_flags("fle.d 1,NaN (signaling)");
	printf("  feq=%ld flt=%ld fle=%ld\n", eq, lt, le);
	feclearexcept(FE_ALL_EXCEPT);
	__asm__ volatile("flt.d %0, %1, %2" : "=r"(lt) : "f"(oner), "f"(oner));
	print_flags("flt.d 1,1");
	printf("  flt(1,1)=%ld\n", lt);
	(void)r;
	feclearexcept(FE_ALL_EXCEPT);
}

static void test_nan_inf(void)
{
	volatile double inf = INFINITY, z = 0.0, one = 1.0;
	double n = inf - inf;
	printf("inf-inf: isnan=%d bits=%016" PRIx64 " (canonical NaN expected)\n", isnan(n) != 0,
	       dbits(n));
	volatile float finf = INFINITY;
	float fn = finf * 0.0f;
	printf("finf*0: bits=%08x\n", fbits(fn));
	printf("1/-0 = %g, -1/inf = %g, inf*-1 = %g\n", one / -z, -one / inf, inf * -one);
	printf("nan==nan %d, nan!=nan %d, isinf(1/0) %d, isfinite(DBL_MAX) %d\n",
	       n == n, n != n, isinf(one / z) != 0, isfinite(DBL_MAX * one) != 0);
	/* fmin/fmax with one NaN return the other operand; fmin(-0,+0) = -0 */
	volatile double qnan = NAN;
	printf("fmin(nan,1)=%g fmax(1,nan)=%g fmin(-0,0)=%g fmax(-0,0)=%g\n", fmin(qnan, one),
	       fmax(one, qnan), fmin(-z, z), fmax(-z, z));
	/* NaN payloads: arithmetic returns the canonical NaN on RISC-V */
	uint64_t payload = 0x7ff8000000000123ull;
	double pn;
	memcpy(&pn, &payload, 8);
	volatile double vpn = pn;
	printf("payload NaN + 1 bits = %016" PRIx64 "\n", dbits(vpn + one));
	printf("copysign(3,-nan) = %g, fabs(-nan) signbit %d\n", copysign(3.0, -vpn),
	       signbit(fabs(-vpn)) != 0);
	/* NaN boxing: a float held in a double register must be boxed */
	volatile float boxed = 1.5f;
	uint64_t raw;
	float tmp = boxed;
	__asm__ volatile("fmv.x.d %0, %1" : "=r"(raw) : "f"(tmp));
	printf("float 1.5 in f-reg as 64 bits = %016" PRIx64 "\n", raw);
	/* an unboxed value read as float must be the canonical NaN */
	uint64_t unboxed = 0x000000003fc00000ull;
	double ud;
	memcpy(&ud, &unboxed, 8);
	volatile double vud = ud;
	double hold = vud;
	float as_f;
	__asm__ volatile("fmv.s %0, %1" : "=f"(as_f) : "f"(hold));
	uint32_t fb;
	__asm__ volatile("fmv.x.w %0, %1" : "=r"(fb) : "f"(as_f));
	float sum;
	volatile float fone = 1.0f;
	float fo = fone;
	__asm__ volatile("fadd.s %0, %1, %2" : "=f"(sum) : "f"(hold), "f"(fo));
	printf("unboxed as float: fmv.x.w %08x, +1.0f = %08x\n", fb, fbits(sum));
	/* fclass */
	static volatile double cls[] = {-INFINITY, -1.0, -4.9e-324, -0.0, 0.0, 4.9e-324, 1.0,
					INFINITY, NAN};
	printf("fclass.d:");
	for (unsigned i = 0; i < sizeof cls / sizeof cls[0]; i++) {
		unsigned long c;
		double d = cls[i];
		__asm__ volatile("fclass.d %0, %1" : "=r"(c) : "f"(d));
		printf(" %lx", c);
	}
	uint64_t snan_bits = 0x7ff0000000000001ull;
	double snan;
	memcpy(&snan, &snan_bits, 8);
	volatile double vsnan = snan;
	double sn = vsnan;
	unsigned long c;
	__asm__ volatile("fclass.d %0, %1" : "=r"(c) : "f"(sn));
	printf(" snan:%lx\n", c);
	feclearexcept(FE_ALL_EXCEPT);
	double sq = vsnan + z;
	print_flags("sNaN + 0");
	printf("  result bits %016" PRIx64 "\n", dbits(sq));
	feclearexcept(FE_ALL_EXCEPT);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("fp_ops start\n");
	test_arith();
	test_fma_sqrt();
	test_conversions();
	test_libm();
	test_rounding_modes();
	test_flags();
	test_nan_inf();
	printf("fp_ops done, %d check failures\n", failures);
	return failures ? 1 : 0;
}
