#ifndef GEARBOX_CVIPSSHIM_H
#define GEARBOX_CVIPSSHIM_H

// Fixed-argument wrappers around libvips for Swift.
//
// Swift cannot call C variadic functions, and almost every libvips operation is one
// (`vips_thumbnail_buffer(buf, len, &out, width, "height", h, ..., NULL)`); nor can it see
// macros such as G_OBJECT() or VIPS_META_ICC_NAME. Every function here exists for one of
// those two reasons (or, for the two allocator calls at the end, because Swift's Glibc module leaves out
// malloc.h), passes the NULL terminator itself, and returns libvips' own status
// (0 on success, -1 with the message in libvips' error buffer).

#include <vips/vips.h>

// vips_init plus the settings a service needs: operation cache off (it holds decoded images
// across requests), untrusted loaders (ImageMagick, ...) blocked, and libvips' warnings kept
// off stderr. Wraps macros and settings that must happen exactly once.
int gearbox_vips_start(const char *argv0);

// Reads and clears libvips' process-wide error buffer in one step. Free with gearbox_vips_free.
char *gearbox_vips_error_take(void);

// g_free, for buffers that libvips allocated (saved images, error text).
void gearbox_vips_free(void *pointer);

// g_object_ref and g_object_unref on an image: G_OBJECT() is a macro.
void gearbox_vips_image_ref(VipsImage *image);
void gearbox_vips_image_unref(VipsImage *image);

// vips_image_new_from_buffer is variadic. Opens the first page lazily (header only until
// pixels are asked for), sequential access, failing on truncated data.
VipsImage *gearbox_vips_image_new_from_buffer(const void *data, size_t length);

// The loader that opened an image ("jpegload_buffer"): VIPS_META_LOADER is a macro.
const char *gearbox_vips_image_loader(VipsImage *image);

// Whether an ICC profile is attached: VIPS_META_ICC_NAME is a macro.
int gearbox_vips_image_has_icc_profile(VipsImage *image);

// vips_thumbnail_buffer is variadic. `export_profile` and `load_options` may be NULL.
// `load_options` goes to the loader, e.g. "[fail_on=truncated,n=-1]": in libvips 8.14 the
// thumbnail's own `fail_on` does not reach the loader when shrinking a JPEG on load, so a
// truncated file would give a grey-bottomed thumbnail instead of an error.
int gearbox_vips_thumbnail_buffer(const void *data, size_t length, VipsImage **out,
    int width, int height, VipsSize size, VipsInteresting crop, int no_rotate,
    const char *export_profile, const char *load_options);

// A JPEG opened like gearbox_vips_image_new_from_buffer, decoded at 1/shrink of its size (1, 2, 4
// or 8) by libjpeg's DCT scaling: jpegload_buffer's `shrink` is one of its variadic options.
VipsImage *gearbox_vips_jpeg_new_from_buffer_shrunk(const void *data, size_t length, int shrink);

// vips_thumbnail_image is variadic: the thumbnail of an image already open, without the loader's
// shrink (the caller chose it). `export_profile` may be NULL.
int gearbox_vips_thumbnail_image(VipsImage *in, VipsImage **out, int width, int height, VipsSize size,
    VipsInteresting crop, int no_rotate, const char *export_profile);

// vips_autorot is variadic.
int gearbox_vips_autorot(VipsImage *in, VipsImage **out);

// vips_resize is variadic.
int gearbox_vips_resize(VipsImage *in, VipsImage **out, double hscale, double vscale, VipsKernel kernel);

// vips_smartcrop is variadic.
int gearbox_vips_smartcrop(VipsImage *in, VipsImage **out, int width, int height, VipsInteresting interesting);

// vips_colourspace is variadic.
int gearbox_vips_colourspace(VipsImage *in, VipsImage **out, VipsInterpretation space);

// vips_icc_transform is variadic: embedded profile (or the fallback for the colourspace) to sRGB.
int gearbox_vips_icc_to_srgb(VipsImage *in, VipsImage **out);

// vips_flatten is variadic and its background is a VipsArrayDouble: flattens alpha onto white.
int gearbox_vips_flatten_white(VipsImage *in, VipsImage **out);

// vips_getpoint is variadic: reads up to `capacity` band values of one pixel into `values`
// and stores how many there were in `count`.
int gearbox_vips_getpoint(VipsImage *in, double *values, int capacity, int *count, int x, int y);

// The savers are variadic. Output buffers are owned by the caller (gearbox_vips_free).
int gearbox_vips_jpegsave_buffer(VipsImage *in, void **buffer, size_t *length,
    int quality, int strip, int interlace);
int gearbox_vips_pngsave_buffer(VipsImage *in, void **buffer, size_t *length,
    int strip, int interlace);
int gearbox_vips_webpsave_buffer(VipsImage *in, void **buffer, size_t *length,
    int quality, int strip);
int gearbox_vips_avifsave_buffer(VipsImage *in, void **buffer, size_t *length,
    int quality, int strip);
int gearbox_vips_gifsave_buffer(VipsImage *in, void **buffer, size_t *length, int strip);

// glibc's mallopt(M_ARENA_MAX, arenas): at most `arenas` malloc arenas for the process from now on.
// Does nothing on other C libraries.
void gearbox_malloc_limit_arenas(int arenas);

// glibc's malloc_trim(0): hands the free pages of every arena back to the system. Does nothing on
// other C libraries.
void gearbox_malloc_trim(void);

#endif
