// The in-process encoder's linear products on weights packed once at load, in blocks of 16 outputs.
// fp32: FMAs on AVX-512 F (`soma_avx512_supported()`, elementwise_kernels.h). int8: weights quantised
// per output channel, activations per row, multiplied on AVX-512 VNNI (`vpdpbusd`: unsigned 8-bit by signed 8-bit, summed in 32-bit without
// saturation). Chosen at run time: `soma_int8_supported()` says whether this CPU has the instructions;
// without them the encoder stays on fp32 and calls neither `soma_int8_quantize_rows` nor `soma_int8_product`.
#ifndef SOMA_PRODUCTS_H
#define SOMA_PRODUCTS_H
#include <stdint.h>

/// Non-zero when the CPU runs AVX-512 F, BW and VNNI.
int soma_int8_supported(void);

/// Bytes `soma_int8_pack` writes for a matrix of `outputs` x `inner` (outputs a multiple of 16, inner of 4).
long soma_int8_packed_size(int outputs, int inner);

/// Quantises `weights` [outputs][inner] (PyTorch's layout) to int8, symmetric per output row:
/// `scales[n]` is the row's step, `sums[n]` the sum of its int8 values; `packed` holds blocks of 16
/// outputs, each as inner/4 groups of 16 x 4 bytes (the operand of one `vpdpbusd`).
void soma_int8_pack(const float *weights, int outputs, int inner, int8_t *packed, float *scales, int32_t *sums);

/// Quantises `rows` rows of `inner` floats (`stride` floats apart) to unsigned 8-bit, asymmetric per
/// row: value = scale[r] * (q - zero[r]); quantised rows are `quantizedStride` bytes apart.
void soma_int8_quantize_rows(const float *input, int rows, int inner, int stride, uint8_t *quantized, int quantizedStride,
                             float *scale, int32_t *zero);

/// output[r][first ..< first + count] = input[r] · weights[first ..< first + count]ᵀ for `rows` quantised rows,
/// `count` and `first` multiples of 16; `output` is column 0 of row 0, rows `outputStride` floats apart.
void soma_int8_product(const uint8_t *quantized, int quantizedStride, const float *rowScale, const int32_t *rowZero, int rows,
                       int inner, const int8_t *packed, const float *scales, const int32_t *sums, int first, int count,
                       float *output, int outputStride);
/// Floats `soma_float_pack` writes for [outputs][inner] (outputs a multiple of 16).
long soma_float_packed_size(int outputs, int inner);

/// Copies `weights` [outputs][inner] into blocks of 16 outputs, each inner x 16 floats (one FMA operand per input column).
void soma_float_pack(const float *weights, int outputs, int inner, float *packed);

/// output[r][first ..< first + count] = input[r] · weights[first ..< first + count]ᵀ on AVX-512 F, input rows
/// `inner` floats apart; `count` and `first` multiples of 16; `output` is column 0 of row 0.
void soma_float_product(const float *input, int rows, int inner, const float *packed, int first, int count, float *output,
                        int outputStride);
#endif
