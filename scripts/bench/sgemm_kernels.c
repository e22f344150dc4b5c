// The encoder's matrix products on two kernels side by side, one thread, in one run: OpenBLAS's
// cblas_sgemm (what the encoder calls) against oneDNN's dnnl_sgemm (Debian's libdnnl-dev, which
// picks its kernel by CPU feature: DNNL_MAX_CPU_ISA=AVX2 caps it, to see what AVX-512 adds).
// Shapes are the encoder's: rows x outputs x inner, weights transposed as the encoder keeps them.
// Build and run: gcc -O2 -o /tmp/sgemm_kernels scripts/bench/sgemm_kernels.c -lopenblas -ldnnl
//                OMP_NUM_THREADS=1 /tmp/sgemm_kernels 512 384 384
#include <cblas.h>
#include <dnnl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: %s ROWS OUTPUTS INNER\n", argv[0]);
        return 2;
    }
    int m = atoi(argv[1]), n = atoi(argv[2]), k = atoi(argv[3]);
    float *a = malloc(sizeof(float) * m * k), *b = malloc(sizeof(float) * n * k), *c = malloc(sizeof(float) * m * n);
    for (long i = 0; i < (long)m * k; i++) a[i] = rand() / (float)RAND_MAX;
    for (long i = 0; i < (long)n * k; i++) b[i] = rand() / (float)RAND_MAX;
    openblas_set_num_threads(1);
    double rates[2];
    for (int kernel = 0; kernel < 2; kernel++) {
        // One call first: oneDNN generates its kernel on the first call of a shape.
        if (kernel == 0) cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, k, 1, a, k, b, k, 0, c, n);
        else dnnl_sgemm('N', 'T', m, n, k, 1, a, k, b, k, 0, c, n);
        int calls = 0;
        double started = now();
        while (now() - started < 1.0) {
            if (kernel == 0) cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, k, 1, a, k, b, k, 0, c, n);
            else dnnl_sgemm('N', 'T', m, n, k, 1, a, k, b, k, 0, c, n);
            calls++;
        }
        rates[kernel] = calls * 2.0 * m * n * k / (now() - started) / 1e9;
    }
    printf("%d x %d x %d: OpenBLAS %.1f GFLOP/s, oneDNN %.1f GFLOP/s, oneDNN/OpenBLAS %.2f\n", m, n, k, rates[0], rates[1], rates[1] / rates[0]);
    return 0;
}
