#include "CVipsShim.h"

#ifdef __GLIBC__
#include <malloc.h>
#endif

static void gearbox_vips_discard_log(const gchar *domain, GLogLevelFlags level,
    const gchar *message, gpointer data) {
    (void)domain; (void)level; (void)message; (void)data;
}

int gearbox_vips_start(const char *argv0) {
    if (vips_init(argv0) != 0) {
        return -1;
    }
    vips_cache_set_max(0);
    vips_block_untrusted_set(TRUE);
    // Per-tile "error in tile" and loader warnings would otherwise go to stderr; failures
    // still arrive as errors through the error buffer.
    g_log_set_handler("VIPS", G_LOG_LEVEL_WARNING | G_LOG_LEVEL_MESSAGE | G_LOG_LEVEL_INFO,
        gearbox_vips_discard_log, NULL);
    return 0;
}

char *gearbox_vips_error_take(void) {
    return vips_error_buffer_copy();
}

void gearbox_vips_free(void *pointer) {
    g_free(pointer);
}

void gearbox_vips_image_ref(VipsImage *image) {
    g_object_ref(G_OBJECT(image));
}

void gearbox_vips_image_unref(VipsImage *image) {
    g_object_unref(G_OBJECT(image));
}

VipsImage *gearbox_vips_image_new_from_buffer(const void *data, size_t length) {
    return vips_image_new_from_buffer(data, length, "",
        "access", VIPS_ACCESS_SEQUENTIAL,
        "fail_on", VIPS_FAIL_ON_TRUNCATED,
        NULL);
}

const char *gearbox_vips_image_loader(VipsImage *image) {
    const char *loader = NULL;
    // Never vips_error_clear() here: the error buffer is shared by every thread.
    if (vips_image_get_typeof(image, VIPS_META_LOADER) == 0 ||
        vips_image_get_string(image, VIPS_META_LOADER, &loader) != 0) {
        return NULL;
    }
    return loader;
}

int gearbox_vips_image_has_icc_profile(VipsImage *image) {
    return vips_image_get_typeof(image, VIPS_META_ICC_NAME) != 0;
}

int gearbox_vips_thumbnail_buffer(const void *data, size_t length, VipsImage **out,
    int width, int height, VipsSize size, VipsInteresting crop, int no_rotate,
    const char *export_profile, const char *load_options) {
    // vips_thumbnail_buffer takes a non-const pointer but only reads the buffer.
    void *buffer = (void *)data;
    if (export_profile != NULL) {
        return vips_thumbnail_buffer(buffer, length, out, width,
            "height", height, "size", size, "crop", crop, "no_rotate", no_rotate,
            "export_profile", export_profile,
            "option_string", load_options != NULL ? load_options : "",
            NULL);
    }
    return vips_thumbnail_buffer(buffer, length, out, width,
        "height", height, "size", size, "crop", crop, "no_rotate", no_rotate,
        "option_string", load_options != NULL ? load_options : "",
        NULL);
}

VipsImage *gearbox_vips_jpeg_new_from_buffer_shrunk(const void *data, size_t length, int shrink) {
    return vips_image_new_from_buffer(data, length, "",
        "access", VIPS_ACCESS_SEQUENTIAL,
        "fail_on", VIPS_FAIL_ON_TRUNCATED,
        "shrink", shrink,
        NULL);
}

int gearbox_vips_thumbnail_image(VipsImage *in, VipsImage **out, int width, int height, VipsSize size,
    VipsInteresting crop, int no_rotate, const char *export_profile) {
    if (export_profile != NULL) {
        return vips_thumbnail_image(in, out, width,
            "height", height, "size", size, "crop", crop, "no_rotate", no_rotate,
            "export_profile", export_profile,
            NULL);
    }
    return vips_thumbnail_image(in, out, width,
        "height", height, "size", size, "crop", crop, "no_rotate", no_rotate,
        NULL);
}

int gearbox_vips_autorot(VipsImage *in, VipsImage **out) {
    return vips_autorot(in, out, NULL);
}

int gearbox_vips_resize(VipsImage *in, VipsImage **out, double hscale, double vscale, VipsKernel kernel) {
    return vips_resize(in, out, hscale, "vscale", vscale, "kernel", kernel, NULL);
}

int gearbox_vips_smartcrop(VipsImage *in, VipsImage **out, int width, int height, VipsInteresting interesting) {
    return vips_smartcrop(in, out, width, height, "interesting", interesting, NULL);
}

int gearbox_vips_colourspace(VipsImage *in, VipsImage **out, VipsInterpretation space) {
    return vips_colourspace(in, out, space, NULL);
}

int gearbox_vips_icc_to_srgb(VipsImage *in, VipsImage **out) {
    return vips_icc_transform(in, out, "srgb", "embedded", TRUE, "intent", VIPS_INTENT_RELATIVE, NULL);
}

int gearbox_vips_flatten_white(VipsImage *in, VipsImage **out) {
    double white[3] = { 255.0, 255.0, 255.0 };
    VipsArrayDouble *background = vips_array_double_new(white, 3);
    int result = vips_flatten(in, out, "background", background, NULL);
    vips_area_unref(VIPS_AREA(background));
    return result;
}

int gearbox_vips_getpoint(VipsImage *in, double *values, int capacity, int *count, int x, int y) {
    double *vector = NULL;
    int n = 0;
    if (vips_getpoint(in, &vector, &n, x, y, NULL) != 0) {
        return -1;
    }
    for (int i = 0; i < n && i < capacity; i++) {
        values[i] = vector[i];
    }
    *count = n;
    g_free(vector);
    return 0;
}

int gearbox_vips_jpegsave_buffer(VipsImage *in, void **buffer, size_t *length,
    int quality, int strip, int interlace) {
    return vips_jpegsave_buffer(in, buffer, length,
        "Q", quality, "strip", strip, "interlace", interlace, "optimize_coding", TRUE, NULL);
}

int gearbox_vips_pngsave_buffer(VipsImage *in, void **buffer, size_t *length,
    int strip, int interlace) {
    return vips_pngsave_buffer(in, buffer, length, "strip", strip, "interlace", interlace, NULL);
}

int gearbox_vips_webpsave_buffer(VipsImage *in, void **buffer, size_t *length,
    int quality, int strip) {
    return vips_webpsave_buffer(in, buffer, length, "Q", quality, "strip", strip, NULL);
}

int gearbox_vips_avifsave_buffer(VipsImage *in, void **buffer, size_t *length,
    int quality, int strip) {
    // Effort 3 rather than libvips' 4: on a 3200x1800 photo, 2.2 s and 165 MB against 8.5 s and 247 MB, for a
    // file 0.7% smaller at SSIM 0.933 against 0.935.
    return vips_heifsave_buffer(in, buffer, length,
        "Q", quality, "strip", strip, "compression", VIPS_FOREIGN_HEIF_COMPRESSION_AV1, "effort", 3, NULL);
}

int gearbox_vips_gifsave_buffer(VipsImage *in, void **buffer, size_t *length, int strip) {
    return vips_gifsave_buffer(in, buffer, length, "strip", strip, NULL);
}

void gearbox_malloc_limit_arenas(int arenas) {
#ifdef __GLIBC__
    mallopt(M_ARENA_MAX, arenas);
#else
    (void)arenas;
#endif
}

void gearbox_malloc_trim(void) {
#ifdef __GLIBC__
    malloc_trim(0);
#endif
}
