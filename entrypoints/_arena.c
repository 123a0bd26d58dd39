/* CPython's small-object arenas on transparent huge pages (see entrypoints/heap.py).

pymalloc takes memory from the system in arenas (1 MiB each on 64-bit builds of 3.10+), each
its own `mmap`, so the heap lives on 4 KiB pages. The members' state is a large heap touched
at random, one member per input: at a million events and 100,000 members (~900 MB) most
inputs then miss the TLB as well as the caches. This allocator hands pymalloc arenas carved
from chunks of address space that are 2 MiB aligned and advised `MADV_HUGEPAGE`, so the
kernel backs them with 2 MiB pages where it can (with THP in `madvise` or `always` mode).

- A chunk (`CHUNK` bytes of address space, `MAP_NORESERVE`) is reserved when the last one is
  used up; its pages cost memory only once touched, as with `mmap`.
- A freed arena goes on a free list (its link written into its own first bytes) and is handed
  out again before the chunk grows: it stays resident, where the default allocator unmaps it.
  pymalloc frees only wholly empty arenas, so what is kept is bounded by the peak.
- An arena that is not carved from a chunk (made before `install`, or when a chunk cannot be
  reserved) is freed with `munmap`, exactly as the default allocator does.
- pymalloc calls the allocator with the GIL held, so nothing here needs a lock.
*/
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <sys/mman.h>

#define HUGE_PAGE ((size_t)2 << 20)
#define CHUNK ((size_t)256 << 20)
#define MAX_CHUNKS 4096 /* 1 TiB of address space: far beyond any heap here */

static char *chunks[MAX_CHUNKS];
static size_t chunk_count;
static size_t used; /* bytes handed out from the newest chunk */
static size_t arena_size;
static void *free_list;
static size_t arenas_live, arenas_free, foreign_freed, fallbacks;
static int installed;

static char *reserve_chunk(void)
{
    if (chunk_count == MAX_CHUNKS)
        return NULL;
    char *raw = mmap(NULL, CHUNK + HUGE_PAGE, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (raw == MAP_FAILED)
        return NULL;
    /* Trim to a 2 MiB aligned chunk: a huge page can only back an aligned 2 MiB range. */
    char *start = (char *)(((uintptr_t)raw + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1));
    if (start > raw)
        munmap(raw, (size_t)(start - raw));
    size_t tail = (size_t)((raw + CHUNK + HUGE_PAGE) - (start + CHUNK));
    if (tail)
        munmap(start + CHUNK, tail);
    /* Advice, not a requirement: with THP off the chunk is still ordinary memory. */
    (void)madvise(start, CHUNK, MADV_HUGEPAGE);
    chunks[chunk_count++] = start;
    used = 0;
    return start;
}

static int carved(const void *ptr)
{
    for (size_t i = chunk_count; i-- > 0;) {
        if ((const char *)ptr >= chunks[i] && (const char *)ptr < chunks[i] + CHUNK)
            return 1;
    }
    return 0;
}

/* `size` bytes from the newest chunk, reserving a chunk when it is used up; NULL if none can
   be reserved. */
static void *carve(size_t size)
{
    if (size > CHUNK)
        return NULL;
    if ((chunk_count == 0 || used + size > CHUNK) && reserve_chunk() == NULL)
        return NULL;
    void *arena = chunks[chunk_count - 1] + used;
    used += size;
    return arena;
}

static void *arena_alloc(void *ctx, size_t size)
{
    (void)ctx;
    if (arena_size == 0)
        arena_size = size;
    if (size == arena_size) {
        void *arena = free_list;
        if (arena != NULL) {
            free_list = *(void **)arena;
            arenas_free--;
        } else {
            arena = carve(size);
        }
        if (arena != NULL) {
            arenas_live++;
            return arena;
        }
    }
    fallbacks++;
    void *ptr = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return ptr == MAP_FAILED ? NULL : ptr;
}

static void arena_free(void *ctx, void *ptr, size_t size)
{
    (void)ctx;
    if (ptr != NULL && size == arena_size && carved(ptr)) {
        *(void **)ptr = free_list;
        free_list = ptr;
        arenas_live--;
        arenas_free++;
        return;
    }
    foreign_freed++;
    munmap(ptr, size);
}

static PyObject *install(PyObject *self, PyObject *unused)
{
    (void)self;
    (void)unused;
    if (installed)
        Py_RETURN_FALSE;
    PyObjectArenaAllocator ours = {NULL, arena_alloc, arena_free};
    PyObject_SetArenaAllocator(&ours);
    installed = 1;
    Py_RETURN_TRUE;
}

static PyObject *stats(PyObject *self, PyObject *unused)
{
    (void)self;
    (void)unused;
    return Py_BuildValue(
        "{s:O,s:n,s:n,s:n,s:n,s:n,s:n,s:n}", "installed", installed ? Py_True : Py_False,
        "chunks", (Py_ssize_t)chunk_count, "chunk_bytes", (Py_ssize_t)CHUNK, "arena_bytes",
        (Py_ssize_t)arena_size, "arenas_live", (Py_ssize_t)arenas_live, "arenas_free",
        (Py_ssize_t)arenas_free, "foreign_freed", (Py_ssize_t)foreign_freed, "fallbacks",
        (Py_ssize_t)fallbacks);
}

static PyMethodDef methods[] = {
    {"install", install, METH_NOARGS,
     "Hand pymalloc's arenas out of huge-page-advised chunks from now on (once per process). "
     "True if this call installed it."},
    {"stats", stats, METH_NOARGS, "Counters of the allocator (chunks, arenas live and free)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "entrypoints._arena", "pymalloc arenas on transparent huge pages.", -1,
    methods,
};

PyMODINIT_FUNC PyInit__arena(void) { return PyModule_Create(&module); }
