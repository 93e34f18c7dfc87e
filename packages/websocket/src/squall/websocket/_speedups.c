/*
 * squall.websocket._speedups: the WebSocket masking XOR (RFC 6455 section 5.3) in C.
 *
 * Optional: the package builds and runs without it (squall.websocket._frames falls back to
 * its pure-Python mask_bytes, with the same results). Written against the limited API of
 * Python 3.11 (the buffer protocol joined it then), so one abi3 wheel serves 3.11 and later.
 *
 * The work is a plain XOR of each payload byte with mask[i % 4]. The loop takes eight bytes
 * at a time: the four mask bytes are laid out twice in memory and read back as one 64-bit
 * word, so the word lines up with the payload whatever the machine's byte order; memcpy
 * moves the words in and out, which compilers turn into plain (unaligned-safe) loads and
 * stores. The last 0-7 bytes go one at a time.
 */

#define Py_LIMITED_API 0x030B0000
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stdint.h>
#include <string.h>

static void
xor_mask(unsigned char *out, const unsigned char *in, Py_ssize_t n,
         const unsigned char mask[4])
{
    unsigned char twice[8];
    uint64_t key, word;
    Py_ssize_t i = 0;

    memcpy(twice, mask, 4);
    memcpy(twice + 4, mask, 4);
    memcpy(&key, twice, 8);
    for (; i + 8 <= n; i += 8) {
        memcpy(&word, in + i, 8);
        word ^= key;
        memcpy(out + i, &word, 8);
    }
    for (; i < n; i++) {
        out[i] = in[i] ^ mask[i & 3];
    }
}

PyDoc_STRVAR(mask_bytes_doc,
"mask_bytes(mask, data, /) -> bytes\n"
"\n"
"XOR data (any contiguous buffer: bytes, bytearray, memoryview) with the 4-byte mask\n"
"repeated (RFC 6455 section 5.3). Masking and unmasking are the same operation.");

static PyObject *
mask_bytes(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    Py_buffer mask, data;
    PyObject *result = NULL;
    char *out;

    (void)module;
    if (nargs != 2) {
        PyErr_Format(PyExc_TypeError,
                     "mask_bytes() takes exactly 2 arguments (%zd given)", nargs);
        return NULL;
    }
    if (PyObject_GetBuffer(args[0], &mask, PyBUF_SIMPLE) < 0) {
        return NULL;
    }
    if (mask.len != 4) {
        PyErr_Format(PyExc_ValueError, "a WebSocket mask is 4 bytes, not %zd", mask.len);
        PyBuffer_Release(&mask);
        return NULL;
    }
    if (PyObject_GetBuffer(args[1], &data, PyBUF_SIMPLE) < 0) {
        PyBuffer_Release(&mask);
        return NULL;
    }
    result = PyBytes_FromStringAndSize(NULL, data.len);
    if (result != NULL && data.len > 0) {
        out = PyBytes_AsString(result);
        if (out == NULL) {
            Py_CLEAR(result);
        }
        else {
            xor_mask((unsigned char *)out, (const unsigned char *)data.buf, data.len,
                     (const unsigned char *)mask.buf);
        }
    }
    PyBuffer_Release(&data);
    PyBuffer_Release(&mask);
    return result;
}

static PyMethodDef speedups_methods[] = {
    {"mask_bytes", (PyCFunction)(void (*)(void))mask_bytes, METH_FASTCALL, mask_bytes_doc},
    {NULL, NULL, 0, NULL},
};

static PyModuleDef_Slot speedups_slots[] = {
    {0, NULL},
};

static struct PyModuleDef speedups_module = {
    PyModuleDef_HEAD_INIT,
    "squall.websocket._speedups",
    "The optional C accelerator of squall.websocket: mask_bytes (RFC 6455 masking).",
    0,
    speedups_methods,
    speedups_slots,
    NULL,
    NULL,
    NULL,
};

PyMODINIT_FUNC
PyInit__speedups(void)
{
    return PyModuleDef_Init(&speedups_module);
}
