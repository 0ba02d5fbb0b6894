/* mvrt_error: the error codes of the runtime's image and top-k functions (mvrt_image.h,
 * mvrt_topk.h). Every function that can fail returns MVRT_OK (0) or one of these negative
 * codes and then has written nothing it promised to write. */
#ifndef MVRT_ERROR_H
#define MVRT_ERROR_H

enum {
    MVRT_OK = 0,
    MVRT_ENULL = -1,   /* a required pointer is NULL */
    MVRT_ESIZE = -2,   /* a size or count is out of range, or a size computation would overflow */
    MVRT_EFORMAT = -3, /* unknown pixel format, or one that cannot be used there */
    MVRT_ESTRIDE = -4, /* an image row's stride is smaller than its pixels */
    MVRT_ECROP = -5,   /* the crop is larger than the resized image */
    MVRT_EVALUE = -6,  /* a bad value: std 0 or not finite, mean not finite, crop_pct <= 0 */
};

/* A short English description of an MVRT_* code ("unknown error" for anything else). */
static inline const char *mvrt_error_string(int code)
{
    switch (code) {
    case MVRT_OK:
        return "ok";
    case MVRT_ENULL:
        return "NULL argument";
    case MVRT_ESIZE:
        return "size out of range";
    case MVRT_EFORMAT:
        return "unsupported pixel format";
    case MVRT_ESTRIDE:
        return "row stride smaller than a row of pixels";
    case MVRT_ECROP:
        return "crop larger than the resized image";
    case MVRT_EVALUE:
        return "bad value (mean, std or crop_pct)";
    default:
        return "unknown error";
    }
}

#endif
