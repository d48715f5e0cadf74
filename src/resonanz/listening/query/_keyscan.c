/* The listening matcher's key finder, compiled: one Aho-Corasick pass over a batch of mentions'
 * joined words that hands back every hit as three integers (mention, atom, word index) in one
 * buffer, which numpy reads without a Python object per hit.
 *
 * Why in C: the batch matcher (batch.py) spent about a third of its time turning the pure-Python
 * automaton's hits into tuples and ints (17 hits per mention on the benchmark), more than all of
 * its numpy bookkeeping. Here the automaton is a dense table over byte classes (a DFA: one load per
 * byte of text), built once per set of active queries.
 *
 * Text: the mentions' joined words (" die deutsche bahn ") separated by one newline. Keys hold no
 * newline, so no key is found across two mentions; the newline is counted as the mention index,
 * the spaces since it as the word index: a key's hit is reported with the number of spaces before
 * its first byte in its mention (the index of the word a " word ..." key starts at). Bytes are
 * UTF-8; only spaces and newlines are counted, so byte and character positions need not agree.
 *
 * resonanz.listening.query.keyscan wraps this module and falls back to pyahocorasick where it was
 * not built (no C compiler at install time) or the table would be too large.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

/* Dense tables beyond this many entries (states x byte classes, 4 bytes each: 64 MiB) are refused
 * (MemoryError; the keyword max_entries sets another limit): the caller uses the pure-Python
 * automaton, whose memory grows with the keys alone. */
#define MAX_TABLE_ENTRIES (1u << 24)

typedef struct {
    PyObject_HEAD
    int32_t *delta;      /* states * classes: the next state's row offset, complemented (< 0) where
                            that state ends keys (breadth first order) */
    int32_t *out_ptr;    /* states + 1: each state's outputs in out_atom / out_spaces */
    int32_t *out_atom;   /* the atoms of the keys ending at a state (its own and its suffixes') */
    int32_t *out_spaces; /* ... and the spaces inside each key */
    Py_ssize_t states;
    int classes;
    uint8_t byte_class[256]; /* 0: a byte no key holds (every state goes back to the root) */
} Scanner;

typedef struct {
    int64_t *data;
    size_t used, size;
} Hits;

static int hits_push(Hits *hits, int64_t doc, int64_t atom, int64_t word) {
    if (hits->used + 3 > hits->size) {
        size_t size = hits->size ? hits->size * 2 : 3 * 4096;
        int64_t *grown = realloc(hits->data, size * sizeof(int64_t));
        if (grown == NULL) return -1;
        hits->data = grown;
        hits->size = size;
    }
    hits->data[hits->used++] = doc;
    hits->data[hits->used++] = atom;
    hits->data[hits->used++] = word;
    return 0;
}

static void scanner_free_tables(Scanner *self) {
    free(self->delta);
    free(self->out_ptr);
    free(self->out_atom);
    free(self->out_spaces);
    self->delta = self->out_ptr = self->out_atom = self->out_spaces = NULL;
}

static void scanner_dealloc(Scanner *self) {
    scanner_free_tables(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* Build the DFA from keys (bytes) and their atoms. Returns 0, or -1 with a Python error set. */
static int scanner_build(Scanner *self, PyObject *keys, PyObject *atoms, unsigned long long max_entries) {
    Py_ssize_t count = PySequence_Fast_GET_SIZE(keys);
    PyObject **key_items = PySequence_Fast_ITEMS(keys);
    PyObject **atom_items = PySequence_Fast_ITEMS(atoms);
    size_t total = 1;
    int classes = 1;

    memset(self->byte_class, 0, sizeof(self->byte_class));
    for (Py_ssize_t i = 0; i < count; i++) {
        char *bytes;
        Py_ssize_t length;
        if (PyBytes_AsStringAndSize(key_items[i], &bytes, &length) < 0) return -1;
        if (length == 0) {
            PyErr_Format(PyExc_ValueError, "key %zd is empty", i);
            return -1;
        }
        for (Py_ssize_t j = 0; j < length; j++) {
            uint8_t b = (uint8_t)bytes[j];
            if (b == '\n') {
                PyErr_Format(PyExc_ValueError, "key %zd holds a newline (the mention separator)", i);
                return -1;
            }
            if (self->byte_class[b] == 0) self->byte_class[b] = (uint8_t)classes++;
        }
        total += (size_t)length;
    }
    self->classes = classes;
    if ((unsigned long long)total * (unsigned long long)classes > max_entries) {
        PyErr_Format(PyExc_MemoryError, "up to %zu states x %d byte classes exceed the dense table's limit (%llu)",
                     total, classes, max_entries);
        return -1;
    }
    /* the trie: at most one state per key byte, plus the root */
    int32_t *delta = calloc(total * (size_t)classes, sizeof(int32_t));
    int32_t *own = malloc(total * sizeof(int32_t)); /* index of the key ending here, or -1 */
    int32_t *fail = calloc(total, sizeof(int32_t));
    int32_t *queue = malloc(total * sizeof(int32_t));
    int32_t *atom_of = malloc((size_t)(count ? count : 1) * sizeof(int32_t));
    int32_t *spaces_of = malloc((size_t)(count ? count : 1) * sizeof(int32_t));
    if (!delta || !own || !fail || !queue || !atom_of || !spaces_of) {
        free(delta), free(own), free(fail), free(queue), free(atom_of), free(spaces_of);
        PyErr_NoMemory();
        return -1;
    }
    memset(own, -1, total * sizeof(int32_t));
    int32_t states = 1;
    for (Py_ssize_t i = 0; i < count; i++) {
        long atom = PyLong_AsLong(atom_items[i]);
        if (atom == -1 && PyErr_Occurred()) goto error;
        if (atom < 0 || atom > INT32_MAX) {
            PyErr_Format(PyExc_ValueError, "atom %ld of key %zd is out of range", atom, i);
            goto error;
        }
        char *bytes;
        Py_ssize_t length;
        PyBytes_AsStringAndSize(key_items[i], &bytes, &length);
        int32_t state = 0, spaces = 0;
        for (Py_ssize_t j = 0; j < length; j++) {
            uint8_t b = (uint8_t)bytes[j];
            spaces += b == ' ';
            int32_t *next = &delta[(size_t)state * classes + self->byte_class[b]];
            if (*next == 0) *next = states++;
            state = *next;
        }
        if (own[state] >= 0) {
            PyErr_Format(PyExc_ValueError, "key %zd is given twice", i);
            goto error;
        }
        own[state] = (int32_t)i;
        atom_of[i] = (int32_t)atom;
        spaces_of[i] = spaces;
    }
    /* failure links breadth first; a missing transition is the failure state's transition */
    size_t head = 0, tail = 0;
    for (int c = 0; c < classes; c++) {
        int32_t child = delta[c];
        if (child != 0) {
            fail[child] = 0;
            queue[tail++] = child;
        }
    }
    while (head < tail) {
        int32_t state = queue[head++];
        int32_t *row = &delta[(size_t)state * classes];
        int32_t *fail_row = &delta[(size_t)fail[state] * classes];
        for (int c = 0; c < classes; c++) {
            if (row[c] != 0) {
                fail[row[c]] = fail_row[c];
                queue[tail++] = row[c];
            } else {
                row[c] = fail_row[c];
            }
        }
    }
    /* outputs: a state's own key, then those of its failure chain (breadth first order means the
     * failure state's list is complete before its dependants') */
    int32_t *out_count = calloc((size_t)states + 1, sizeof(int32_t));
    if (out_count == NULL) {
        PyErr_NoMemory();
        goto error;
    }
    for (size_t k = 0; k < tail; k++) {
        int32_t state = queue[k];
        out_count[state] = (own[state] >= 0) + out_count[fail[state]];
    }
    int32_t *out_ptr = malloc(((size_t)states + 1) * sizeof(int32_t));
    size_t outputs = 0;
    if (out_ptr != NULL) {
        for (int32_t s = 0; s < states; s++) {
            out_ptr[s] = (int32_t)outputs;
            outputs += (size_t)out_count[s];
        }
        out_ptr[states] = (int32_t)outputs;
    }
    int32_t *out_atom = malloc((outputs ? outputs : 1) * sizeof(int32_t));
    int32_t *out_spaces = malloc((outputs ? outputs : 1) * sizeof(int32_t));
    if (out_ptr == NULL || out_atom == NULL || out_spaces == NULL || outputs > INT32_MAX) {
        free(out_count), free(out_ptr), free(out_atom), free(out_spaces);
        PyErr_NoMemory();
        goto error;
    }
    for (size_t k = 0; k < tail; k++) {
        int32_t state = queue[k];
        int32_t at = out_ptr[state];
        if (own[state] >= 0) {
            out_atom[at] = atom_of[own[state]];
            out_spaces[at] = spaces_of[own[state]];
            at++;
        }
        int32_t from = out_ptr[fail[state]], to = out_ptr[fail[state] + 1];
        memcpy(&out_atom[at], &out_atom[from], (size_t)(to - from) * sizeof(int32_t));
        memcpy(&out_spaces[at], &out_spaces[from], (size_t)(to - from) * sizeof(int32_t));
    }
    free(out_count), free(own), free(fail), free(atom_of), free(spaces_of);
    own = fail = atom_of = spaces_of = NULL;
    /* renumber the states breadth first, so the shallow ones that every word passes through lie
     * together in the table: fewer cache misses per byte (the insertion order scatters them) */
    int32_t *rank = malloc((size_t)states * sizeof(int32_t));
    int32_t *table = malloc((size_t)states * classes * sizeof(int32_t));
    int32_t *ptr = malloc(((size_t)states + 1) * sizeof(int32_t));
    int32_t *atoms_out = malloc((outputs ? outputs : 1) * sizeof(int32_t));
    int32_t *spaces_out = malloc((outputs ? outputs : 1) * sizeof(int32_t));
    if (!rank || !table || !ptr || !atoms_out || !spaces_out) {
        free(rank), free(table), free(ptr), free(atoms_out), free(spaces_out);
        free(out_ptr), free(out_atom), free(out_spaces);
        PyErr_NoMemory();
        goto error;
    }
    rank[0] = 0;
    for (size_t k = 0; k < tail; k++) rank[queue[k]] = (int32_t)k + 1;
    int32_t at = 0;
    for (int32_t s = 0; s < states; s++) {
        int32_t old = s == 0 ? 0 : queue[s - 1];
        for (int c = 0; c < classes; c++) table[(size_t)s * classes + c] = rank[delta[(size_t)old * classes + c]];
        int32_t from = out_ptr[old], to = out_ptr[old + 1];
        ptr[s] = at;
        memcpy(&atoms_out[at], &out_atom[from], (size_t)(to - from) * sizeof(int32_t));
        memcpy(&spaces_out[at], &out_spaces[from], (size_t)(to - from) * sizeof(int32_t));
        at += to - from;
    }
    ptr[states] = at;
    /* each entry: the target's row offset (no multiplication per byte), complemented where the
     * target has outputs (one sign test per byte instead of two loads) */
    for (size_t e = 0; e < (size_t)states * classes; e++) {
        int32_t target = table[e];
        table[e] = ptr[target + 1] > ptr[target] ? ~(target * classes) : target * classes;
    }
    free(rank), free(delta), free(queue), free(out_ptr), free(out_atom), free(out_spaces);
    self->delta = table;
    self->out_ptr = ptr;
    self->out_atom = atoms_out;
    self->out_spaces = spaces_out;
    self->states = states;
    return 0;
error:
    free(delta), free(own), free(fail), free(queue), free(atom_of), free(spaces_of);
    return -1;
}

static int scanner_init(Scanner *self, PyObject *args, PyObject *kwds) {
    static char *kwlist[] = {"keys", "atoms", "max_entries", NULL};
    PyObject *keys_arg, *atoms_arg;
    unsigned long long max_entries = MAX_TABLE_ENTRIES;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OO|$K:KeyScanner", kwlist, &keys_arg, &atoms_arg, &max_entries))
        return -1;
    PyObject *keys = PySequence_Fast(keys_arg, "keys must be a sequence of bytes");
    if (keys == NULL) return -1;
    PyObject *atoms = PySequence_Fast(atoms_arg, "atoms must be a sequence of ints");
    if (atoms == NULL) {
        Py_DECREF(keys);
        return -1;
    }
    int result = -1;
    if (PySequence_Fast_GET_SIZE(keys) != PySequence_Fast_GET_SIZE(atoms)) {
        PyErr_SetString(PyExc_ValueError, "keys and atoms differ in length");
    } else {
        scanner_free_tables(self);
        result = scanner_build(self, keys, atoms, max_entries);
    }
    Py_DECREF(keys);
    Py_DECREF(atoms);
    return result;
}

static int scanner_ready(Scanner *self) {
    if (self->delta == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "KeyScanner was not initialised");
        return 0;
    }
    return 1;
}

/* The UTF-8 bytes of a str (cached by the str itself; no copy for ASCII) or of a bytes object (a
 * text the caller encoded with surrogates passed through). Valid while text is alive. */
static const char *text_bytes(PyObject *text, Py_ssize_t *length) {
    if (PyUnicode_Check(text)) return PyUnicode_AsUTF8AndSize(text, length);
    if (PyBytes_Check(text)) {
        *length = PyBytes_GET_SIZE(text);
        return PyBytes_AS_STRING(text);
    }
    PyErr_SetString(PyExc_TypeError, "the text must be str or bytes");
    return NULL;
}

PyDoc_STRVAR(scan_doc,
             "scan(text, /)\n--\n\n"
             "Every key hit in text (mentions' joined words, one newline between two mentions), in "
             "the order found, as one bytes object of native int64: the hits' mentions, then their "
             "atoms, then their word indexes (a (3, n) array).");

static PyObject *scanner_scan(Scanner *self, PyObject *text) {
    if (!scanner_ready(self)) return NULL;
    Py_ssize_t length;
    const char *bytes = text_bytes(text, &length);
    if (bytes == NULL) return NULL;
    Hits hits = {NULL, 0, 0};
    int failed = 0;
    Py_BEGIN_ALLOW_THREADS;
    const int32_t *delta = self->delta, *out_ptr = self->out_ptr;
    const uint8_t *byte_class = self->byte_class;
    const int32_t classes = self->classes;
    int32_t offset = 0;
    int64_t doc = 0, spaces = 0;
    for (Py_ssize_t i = 0; i < length; i++) {
        uint8_t b = (uint8_t)bytes[i];
        if (b == '\n') {
            doc++;
            spaces = 0;
        } else if (b == ' ') {
            spaces++;
        }
        int32_t next = delta[offset + byte_class[b]];
        if (next >= 0) {
            offset = next;
            continue;
        }
        offset = ~next;
        int32_t state = offset / classes;
        for (int32_t k = out_ptr[state], end = out_ptr[state + 1]; k < end; k++) {
            if (hits_push(&hits, doc, self->out_atom[k], spaces - self->out_spaces[k]) < 0) {
                failed = 1;
                break;
            }
        }
        if (failed) break;
    }
    Py_END_ALLOW_THREADS;
    if (failed) {
        free(hits.data);
        return PyErr_NoMemory();
    }
    /* column by column: numpy reads the three as contiguous rows of one (3, n) array */
    size_t n = hits.used / 3;
    PyObject *result = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)(hits.used * sizeof(int64_t)));
    if (result != NULL) {
        int64_t *columns = (int64_t *)PyBytes_AS_STRING(result);
        for (size_t k = 0; k < n; k++) {
            columns[k] = hits.data[3 * k];
            columns[n + k] = hits.data[3 * k + 1];
            columns[2 * n + k] = hits.data[3 * k + 2];
        }
    }
    free(hits.data);
    return result;
}

PyDoc_STRVAR(atoms_doc,
             "atoms(text, /)\n--\n\n"
             "The set of atoms whose keys occur in text (one mention's joined words).");

static PyObject *scanner_atoms(Scanner *self, PyObject *text) {
    if (!scanner_ready(self)) return NULL;
    Py_ssize_t length;
    const char *bytes = text_bytes(text, &length);
    if (bytes == NULL) return NULL;
    PyObject *found = PySet_New(NULL);
    if (found == NULL) return NULL;
    int32_t offset = 0;
    for (Py_ssize_t i = 0; i < length; i++) {
        int32_t next = self->delta[offset + self->byte_class[(uint8_t)bytes[i]]];
        if (next >= 0) {
            offset = next;
            continue;
        }
        offset = ~next;
        int32_t state = offset / self->classes;
        for (int32_t k = self->out_ptr[state], end = self->out_ptr[state + 1]; k < end; k++) {
            PyObject *atom = PyLong_FromLong(self->out_atom[k]);
            if (atom == NULL || PySet_Add(found, atom) < 0) {
                Py_XDECREF(atom);
                Py_DECREF(found);
                return NULL;
            }
            Py_DECREF(atom);
        }
    }
    return found;
}

static PyObject *scanner_states(Scanner *self, void *closure) {
    (void)closure;
    return PyLong_FromSsize_t(self->states);
}

static PyMethodDef scanner_methods[] = {
    {"scan", (PyCFunction)scanner_scan, METH_O, scan_doc},
    {"atoms", (PyCFunction)scanner_atoms, METH_O, atoms_doc},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef scanner_getset[] = {
    {"states", (getter)scanner_states, NULL, "states of the automaton (the root included)", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyTypeObject ScannerType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "resonanz.listening.query._keyscan.KeyScanner",
    .tp_doc = PyDoc_STR("KeyScanner(keys, atoms, *, max_entries=2**24): an Aho-Corasick DFA over the "
                        "UTF-8 bytes of keys, reporting each key's atom."),
    .tp_basicsize = sizeof(Scanner),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)scanner_init,
    .tp_dealloc = (destructor)scanner_dealloc,
    .tp_methods = scanner_methods,
    .tp_getset = scanner_getset,
};

static struct PyModuleDef keyscan_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "resonanz.listening.query._keyscan",
    .m_doc = "The listening matcher's compiled key finder (see keyscan.py).",
    .m_size = -1,
};

PyMODINIT_FUNC PyInit__keyscan(void) {
    if (PyType_Ready(&ScannerType) < 0) return NULL;
    PyObject *module = PyModule_Create(&keyscan_module);
    if (module == NULL) return NULL;
    Py_INCREF(&ScannerType);
    if (PyModule_AddObject(module, "KeyScanner", (PyObject *)&ScannerType) < 0) {
        Py_DECREF(&ScannerType);
        Py_DECREF(module);
        return NULL;
    }
    return module;
}
