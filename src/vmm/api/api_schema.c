/* The JSON body checker: one table per body shape (api_body.c), one walker.
 * Strict as Firecracker's serde structs with deny_unknown_fields: unknown
 * fields, wrong types, out-of-range integers and over-long strings are
 * refused with a message naming the field; nothing is guessed or coerced
 * (1.0 is not an integer, "1" is not a number). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "vmm/api/api_internal.h"

/* Enum-typed destinations are written as int. */
_Static_assert(sizeof(enum api_huge_pages) == sizeof(int), "enums are int-sized");

/* A key or string value for a message: at most 40 bytes of it. */
static const char *clip(const char *s, char *buf, size_t size)
{
    size_t n = strnlen(s, 41);
    if (n > 40)
        snprintf(buf, size, "%.37s...", s);
    else
        snprintf(buf, size, "%s", s);
    return buf;
}

static const char *type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a real number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    case JSON_NULL: return "null";
    }
    return "?";
}

static bool id_valid(const char *s, size_t n)
{
    if (n == 0 || n >= API_ID_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_'))
            return false;
    }
    return true;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static bool mac_parse(const char *s, size_t n, uint8_t mac[6])
{
    if (n != 17)
        return false;
    for (int i = 0; i < 6; i++) {
        int hi = hexval(s[i * 3]), lo = hexval(s[i * 3 + 1]);
        if (hi < 0 || lo < 0 || (i < 5 && s[i * 3 + 2] != ':'))
            return false;
        mac[i] = (uint8_t)(hi << 4 | lo);
    }
    return true;
}

static int walk(const json_t *obj, const struct api_schema *sc, char *dst, const char *where,
                const char *prefix, struct error *err);

static int set_field(const struct api_field *f, const json_t *v, char *dst, const char *where,
                     const char *name, struct error *err)
{
    char shown[48];
    switch (f->type) {
    case API_F_BOOL:
        if (!json_is_boolean(v))
            return error_set(err, -EINVAL, "%s: `%s` must be a boolean, not %s.", where, name,
                             type_name(v));
        *(bool *)(dst + f->off) = json_is_true(v);
        return 0;
    case API_F_U64: {
        if (!json_is_integer(v))
            return error_set(err, -EINVAL, "%s: `%s` must be an integer, not %s.", where, name,
                             type_name(v));
        json_int_t i = json_integer_value(v);
        if (i < 0 || (uint64_t)i < f->min || (uint64_t)i > f->max)
            return error_set(err, -EINVAL,
                             "%s: `%s` must be an integer from %llu to %llu, not %lld.", where,
                             name, (unsigned long long)f->min, (unsigned long long)f->max,
                             (long long)i);
        *(uint64_t *)(dst + f->off) = (uint64_t)i;
        return 0;
    }
    case API_F_STRING:
    case API_F_ID:
    case API_F_ENUM:
    case API_F_MAC: {
        if (!json_is_string(v))
            return error_set(err, -EINVAL, "%s: `%s` must be a string, not %s.", where, name,
                             type_name(v));
        /* jansson refuses \u0000 (no JSON_ALLOW_NUL): no NUL inside. */
        const char *s = json_string_value(v);
        size_t n = json_string_length(v);
        if (f->type == API_F_ID) {
            if (!id_valid(s, n))
                return error_set(err, -EINVAL,
                                 "%s: `%s` must be 1 to %d letters, digits or underscores, "
                                 "not \"%s\".",
                                 where, name, API_ID_MAX - 1, clip(s, shown, sizeof(shown)));
            memcpy(dst + f->off, s, n + 1);
            return 0;
        }
        if (f->type == API_F_MAC) {
            if (!mac_parse(s, n, (uint8_t *)(dst + f->off)))
                return error_set(err, -EINVAL,
                                 "%s: `%s` must be a MAC address like \"06:00:AC:10:00:02\", "
                                 "not \"%s\".",
                                 where, name, clip(s, shown, sizeof(shown)));
            return 0;
        }
        if (f->type == API_F_ENUM) {
            for (int i = 0; f->names[i]; i++)
                if (f->nocase ? !strcasecmp(s, f->names[i]) : !strcmp(s, f->names[i])) {
                    memcpy(dst + f->off, &i, sizeof(int));
                    return 0;
                }
            char list[160] = "";
            for (int i = 0; f->names[i]; i++) {
                size_t l = strlen(list);
                snprintf(list + l, sizeof(list) - l, "%s\"%s\"", i ? ", " : "", f->names[i]);
            }
            return error_set(err, -EINVAL, "%s: `%s` must be one of %s, not \"%s\".", where,
                             name, list, clip(s, shown, sizeof(shown)));
        }
        if (f->nonempty && n == 0)
            return error_set(err, -EINVAL, "%s: `%s` must not be empty.", where, name);
        if (n >= f->cap)
            return error_set(err, -EINVAL, "%s: `%s` is too long (%zu bytes; at most %zu).",
                             where, name, n, f->cap - 1);
        memcpy(dst + f->off, s, n + 1);
        return 0;
    }
    case API_F_OBJECT:
        return walk(v, f->sub, dst + f->off, where, name, err);
    case API_F_ARRAY: {
        if (!json_is_array(v))
            return error_set(err, -EINVAL, "%s: `%s` must be an array, not %s.", where, name,
                             type_name(v));
        size_t n = json_array_size(v);
        if (n > f->cap)
            return error_set(err, -EINVAL, "%s: `%s` has %zu entries; at most %zu.", where,
                             name, n, f->cap);
        for (size_t i = 0; i < n; i++) {
            char elem[160];
            snprintf(elem, sizeof(elem), "%s[%zu]", name, i);
            int r = walk(json_array_get(v, i), f->sub, dst + f->off + i * f->elem, where, elem,
                         err);
            if (r < 0)
                return r;
        }
        unsigned count = (unsigned)n;
        memcpy(dst + f->has_off, &count, sizeof(count));
        return 0;
    }
    }
    return error_set(err, -EINVAL, "%s: `%s`: unknown field type", where, name);
}

static int walk(const json_t *obj, const struct api_schema *sc, char *dst, const char *where,
                const char *prefix, struct error *err)
{
    char shown[48];
    if (!json_is_object(obj)) {
        if (prefix[0])
            return error_set(err, -EINVAL, "%s: `%s` must be an object, not %s.", where, prefix,
                             type_name(obj));
        return error_set(err, -EINVAL, "%s: the body must be a JSON object, not %s.", where,
                         type_name(obj));
    }
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)obj, key, v) {
        bool known = false;
        for (unsigned i = 0; i < sc->n && !known; i++)
            known = !strcmp(sc->fields[i].name, key);
        if (known)
            continue;
        char list[256] = "";
        for (unsigned i = 0; i < sc->n; i++) {
            size_t l = strlen(list);
            snprintf(list + l, sizeof(list) - l, "%s%s", i ? ", " : "", sc->fields[i].name);
        }
        if (prefix[0])
            return error_set(err, -EINVAL, "%s: unknown field `%s` in `%s` (expected %s).",
                             where, clip(key, shown, sizeof(shown)), prefix, list);
        return error_set(err, -EINVAL, "%s: unknown field `%s` (expected %s).", where,
                         clip(key, shown, sizeof(shown)), list);
    }
    for (unsigned i = 0; i < sc->n; i++) {
        const struct api_field *f = &sc->fields[i];
        char name[128];
        if (prefix[0])
            snprintf(name, sizeof(name), "%s.%s", prefix, f->name);
        else
            snprintf(name, sizeof(name), "%s", f->name);
        const json_t *fv = json_object_get(obj, f->name);
        if (!fv || json_is_null(fv)) {
            if (f->required)
                return error_set(err, -EINVAL, "%s: missing field `%s`.", where, name);
            continue;
        }
        int r = set_field(f, fv, dst, where, name, err);
        if (r < 0)
            return r;
        if (f->has)
            *(bool *)(dst + f->has_off) = true;
    }
    return 0;
}

int api_schema_apply(const json_t *obj, const struct api_schema *sc, void *dst,
                     const char *where, struct error *err)
{
    return walk(obj, sc, dst, where, "", err);
}
