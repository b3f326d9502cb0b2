/* gguf_types.c: ggml's tensor types (block sizes, names) and the conversions GGUF
 * reading and writing need: binary16 both ways and Q8_0 blocks, rounded as ggml
 * rounds so a file written here holds the bytes llama.cpp's converter would write. */
#include <math.h>
#include <string.h>

#include "io/gguf.h"
#include "io/safetensors.h"

typedef struct {
    const char *name;
    uint16_t block, bytes;
} type_info;

/* ggml.h's enum ggml_type (ids 4, 5 and 31..33, 36..38 were removed from the format). */
static const type_info TYPES[] = {
    [0] = {"F32", 1, 4},        [1] = {"F16", 1, 2},        [2] = {"Q4_0", 32, 18},
    [3] = {"Q4_1", 32, 20},     [6] = {"Q5_0", 32, 22},     [7] = {"Q5_1", 32, 24},
    [8] = {"Q8_0", 32, 34},     [9] = {"Q8_1", 32, 36},     [10] = {"Q2_K", 256, 84},
    [11] = {"Q3_K", 256, 110},  [12] = {"Q4_K", 256, 144},  [13] = {"Q5_K", 256, 176},
    [14] = {"Q6_K", 256, 210},  [15] = {"Q8_K", 256, 292},  [16] = {"IQ2_XXS", 256, 66},
    [17] = {"IQ2_XS", 256, 74}, [18] = {"IQ3_XXS", 256, 98}, [19] = {"IQ1_S", 256, 50},
    [20] = {"IQ4_NL", 32, 18},  [21] = {"IQ3_S", 256, 110}, [22] = {"IQ2_S", 256, 82},
    [23] = {"IQ4_XS", 256, 136}, [24] = {"I8", 1, 1},       [25] = {"I16", 1, 2},
    [26] = {"I32", 1, 4},       [27] = {"I64", 1, 8},       [28] = {"F64", 1, 8},
    [29] = {"IQ1_M", 256, 56},  [30] = {"BF16", 1, 2},      [34] = {"TQ1_0", 256, 54},
    [35] = {"TQ2_0", 256, 66},  [39] = {"MXFP4", 32, 17},
};

const char *ggml_type_name(uint32_t type)
{
    return type < sizeof TYPES / sizeof TYPES[0] ? TYPES[type].name : NULL;
}

int ggml_type_block(uint32_t type, uint32_t *block, uint32_t *bytes)
{
    if (!ggml_type_name(type))
        return -1;
    *block = TYPES[type].block;
    *bytes = TYPES[type].bytes;
    return 0;
}

const char *gguf_vtype_name(uint32_t v)
{
    static const char *const N[] = {"uint8", "int8",   "uint16", "int16", "uint32",
                                    "int32", "float32", "bool",  "string", "array",
                                    "uint64", "int64", "float64"};
    return v < GGUF_N_VTYPES ? N[v] : "unknown";
}

float ggml_f16_to_f32(uint16_t h) { return st_f16_to_f32(h); }

uint16_t ggml_f32_to_f16(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    uint16_t sign = (uint16_t)((u >> 16) & 0x8000);
    uint32_t a = u & 0x7FFFFFFFu;
    if (a > 0x7F800000u)
        return sign | 0x7E00; /* NaN stays NaN (quiet) */
    if (a >= 0x477FF000u)
        return sign | 0x7C00; /* rounds to or beyond 65520: infinity */
    if (a < 0x38800000u) {
        /* below the smallest normal 2^-14: a subnormal, man * 2^-24, rounded to
         * nearest even by adding the value to 0.5 (2^-1) in float, whose ulp there is
         * 2^-24 (the trick ggml's and numpy's conversions use). */
        float x;
        memcpy(&x, &a, 4);
        x += 0.5f;
        uint32_t v;
        memcpy(&v, &x, 4);
        return sign | (uint16_t)(v - 0x3F000000u);
    }
    /* normal: rebias the exponent (127 -> 15) and round the 13 dropped bits to nearest
     * even; a carry moves into the exponent, which is right. */
    uint32_t odd = (a >> 13) & 1;
    a += 0xC8000FFFu + odd; /* (15 - 127) << 23 plus just under half an ulp */
    return sign | (uint16_t)(a >> 13);
}

void ggml_quantize_q8_0(const float *x, uint8_t out[34])
{
    /* quantize_row_q8_0_ref: d = amax / 127 stored as f16; q = round(x / d) with the
     * reciprocal of the float d (not of its f16 rounding), rounding half away from 0. */
    float amax = 0.0f;
    for (int j = 0; j < 32; j++) {
        float v = fabsf(x[j]);
        if (v > amax)
            amax = v;
    }
    const float d = amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    uint16_t h = ggml_f32_to_f16(d);
    out[0] = (uint8_t)(h & 0xFF);
    out[1] = (uint8_t)(h >> 8);
    for (int j = 0; j < 32; j++)
        out[2 + j] = (uint8_t)(int8_t)roundf(x[j] * id);
}
