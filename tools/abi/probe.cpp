// ABI probe: compiled against one official DolphinDB `include/` folder (never committed)
// by tools/abi/gen_facts.py, for one target (x86_64 or aarch64) and one C++ string ABI
// (-D_GLIBCXX_USE_CXX11_ABI=0 or 1). It prints, as "key value" lines, the facts the
// plugin's ABI layer and the test host rely on: vtable slots, the flag_ bit layout, enum
// values and object layouts. Mangled symbol names are read from the probe's object file by
// the generator (its symbol table and the relocations of the `ref_*` functions below).
// Linked with unresolved symbols ignored: it never calls into the server, it only takes
// member-function pointers and runs inline code on scratch buffers.
#include <cstdio>
#include <cstdint>
#include <cstring>
#include <new>
#include <string>
#include <typeinfo>
#include <vector>

#include "CoreConcept.h"
#include "DolphinString.h"
#include "Exceptions.h"
#include "ScalarImp.h"
#include "Util.h"  // brings the smart pointer and Counter declarations too

namespace ddb {}
using namespace ddb;  // 3.00.3 and later put everything in namespace ddb

// Itanium ABI: a pointer to a virtual member function holds the byte offset of its slot
// and a "virtual" mark. x86_64 marks it in bit 0 of the pointer word (which then holds
// 1 + offset); AArch64, whose ABI keeps bit 0 of code addresses free, marks it in bit 0
// of the adjustment word (the pointer word holding the plain offset). A non-virtual
// member function pointer holds the function's address and no mark.
template <class PMF>
static long slot_of(PMF f) {
    struct Raw { uintptr_t ptr; ptrdiff_t adj; } raw;
    static_assert(sizeof(PMF) == sizeof(Raw), "Itanium member function pointer");
    std::memcpy(&raw, &f, sizeof raw);
#if defined(__aarch64__)
    if (!(raw.adj & 1)) return -1;
    return (long)(raw.ptr / sizeof(void*));
#else
    if (!(raw.ptr & 1)) return -1;
    return (long)((raw.ptr - 1) / sizeof(void*));
#endif
}

#define SLOT(key, cls, ret, name, args, cv) \
    std::printf("slot.%s %ld\n", key, slot_of(static_cast<ret (cls::*) args cv>(&cls::name)))

// Probe an inline accessor on a zeroed object: set one bit at a time in the first
// `span` bytes and record which bit changes what the accessor returns.
template <class F>
static void probe_field(const char* key, F read, size_t span) {
    alignas(16) unsigned char buf[512];
    long lo_byte = -1, lo_bit = -1, count = 0;
    for (size_t byte = sizeof(void*); byte < span; ++byte) {
        for (int bit = 0; bit < 8; ++bit) {
            std::memset(buf, 0, sizeof buf);
            buf[byte] = (unsigned char)(1u << bit);
            if (read(reinterpret_cast<const Constant*>(buf)) != 0) {
                if (lo_byte < 0) { lo_byte = (long)byte; lo_bit = bit; }
                ++count;
            }
        }
    }
    // A field = `count` consecutive bits starting at (lo_byte, lo_bit).
    std::printf("field.%s %ld %ld %ld\n", key, lo_byte, lo_bit, count);
}

// The words of an exception object: which hold a std::string (found by the address of its
// characters, which the old ABI stores in the first word of the string and the new ABI in
// its first word too, followed by the length and either a capacity or the inline buffer).
static void dump_strings(const char* key, const void* p, size_t size, const char* marker1,
                         const char* marker2) {
    std::printf("layout.%s.size %zu\n", key, size);
    std::printf("layout.%s.stringSize %zu\n", key, sizeof(std::string));
    const unsigned char* b = static_cast<const unsigned char*>(p);
    for (size_t off = sizeof(void*); off + sizeof(std::string) <= size;) {
        const std::string* s = reinterpret_cast<const std::string*>(b + off);
        const char* w;
        std::memcpy(&w, b + off, sizeof w);
        // A constructed string's data pointer points either to its own inline buffer
        // (new ABI), to the shared empty representation, or to a heap copy of the text.
        bool is_string = w != nullptr && (s->size() < 4096) && std::strlen(w) == s->size();
        if (!is_string) {
            std::printf("layout.%s.word %zu zero\n", key, off);
            off += sizeof(void*);
            continue;
        }
        const char* what = "empty_string";
        if (std::strcmp(w, marker1) == 0) what = "marker1";
        else if (marker2 && std::strcmp(w, marker2) == 0) what = "marker2";
        else if (!s->empty()) what = "other";
        std::printf("layout.%s.word %zu %s\n", key, off, what);
        off += sizeof(std::string);
    }
}

int main(int argc, char**) {
    std::printf("sizeof.pointer %zu\n", sizeof(void*));
    std::printf("sizeof.INDEX %zu\n", sizeof(INDEX));
    std::printf("sizeof.string %zu\n", sizeof(std::string));
    std::printf("abi.cxx11 %d\n", (int)_GLIBCXX_USE_CXX11_ABI);
#if defined(__aarch64__)
    std::printf("abi.arch aarch64\n");
#elif defined(__x86_64__)
    std::printf("abi.arch x86_64\n");
#else
    std::printf("abi.arch unknown\n");
#endif

    // Virtual methods of Constant the ABI layer calls (or the host implements).
    SLOT("getString", Constant, std::string, getString, (), const);
    SLOT("getStringAt", Constant, std::string, getString, (INDEX), const);
    SLOT("getBool", Constant, char, getBool, (), const);
    SLOT("getInt", Constant, int, getInt, (), const);
    SLOT("getLong", Constant, long long, getLong, (), const);
    SLOT("getDouble", Constant, double, getDouble, (), const);
    SLOT("isNull", Constant, bool, isNull, (), const);
    SLOT("size", Constant, INDEX, size, (), const);
    SLOT("getAt", Constant, ConstantSP, get, (INDEX), const);
    SLOT("keys", Constant, ConstantSP, keys, (), const);
    SLOT("values", Constant, ConstantSP, values, (), const);
    SLOT("setKeyValue", Constant, bool, set, (const ConstantSP&, const ConstantSP&), );
    SLOT("setAt", Constant, bool, set, (INDEX, const ConstantSP&), );
    SLOT("setBool", Constant, void, setBool, (char), );
    SLOT("setInt", Constant, void, setInt, (int), );
    SLOT("setLong", Constant, void, setLong, (long long), );
    SLOT("setDouble", Constant, void, setDouble, (double), );
    SLOT("setString", Constant, void, setString, (const DolphinString&), );
    SLOT("getType", Constant, DATA_TYPE, getType, (), const);
    SLOT("getCategory", Constant, DATA_CATEGORY, getCategory, (), const);
    SLOT("exceptionWhat", RuntimeException, const char*, what, (), const);
    // Calling a built-in function (writeLog) through the calling session.
    SLOT("sessionGetFunctionDef", Session, FunctionDefSP, getFunctionDef, (const std::string&), const);
    SLOT("functionDefCall", FunctionDef, ConstantSP, call, (Heap*, std::vector<ConstantSP>&), );

    // Inline flag_ accessors (where they are inline: slot -1 above).
    probe_field("form", [](const Constant* c) { return (long)c->getForm(); }, 32);
    probe_field("nothing", [](const Constant* c) { return (long)c->isNothing(); }, 32);
    probe_field("temporary", [](const Constant* c) { return (long)c->isTemporary(); }, 32);
    if (slot_of(static_cast<DATA_TYPE (Constant::*)() const>(&Constant::getType)) < 0)
        probe_field("type", [](const Constant* c) { return (long)c->getType(); }, 32);
    if (slot_of(static_cast<DATA_CATEGORY (Constant::*)() const>(&Constant::getCategory)) < 0)
        probe_field("category", [](const Constant* c) { return (long)c->getCategory(); }, 32);
    std::printf("sizeof.Constant %zu\n", sizeof(Constant));

    // Heap::currentSession() is inline: which word holds the session pointer.
    {
        alignas(16) unsigned char buf[sizeof(Heap) + 16];
        for (size_t off = 0; off + sizeof(void*) <= sizeof(Heap); off += sizeof(void*)) {
            std::memset(buf, 0, sizeof buf);
            void* marker = buf + 3;
            std::memcpy(buf + off, &marker, sizeof marker);
            if ((void*)reinterpret_cast<Heap*>(buf)->currentSession() == marker)
                std::printf("layout.Heap.session %zu\n", off);
        }
        std::printf("layout.Heap.size %zu\n", sizeof(Heap));
    }

    // Enum values.
#define ENUM(x) std::printf("enum.%s %d\n", #x, (int)(x))
    ENUM(DT_VOID); ENUM(DT_BOOL); ENUM(DT_CHAR); ENUM(DT_SHORT); ENUM(DT_INT); ENUM(DT_LONG);
    ENUM(DT_DATE); ENUM(DT_TIMESTAMP);
    ENUM(DT_FLOAT); ENUM(DT_DOUBLE); ENUM(DT_SYMBOL); ENUM(DT_STRING); ENUM(DT_ANY);
    ENUM(DT_BLOB);
    ENUM(DF_SCALAR); ENUM(DF_VECTOR); ENUM(DF_PAIR); ENUM(DF_MATRIX); ENUM(DF_SET);
    ENUM(DF_DICTIONARY); ENUM(DF_TABLE);
    ENUM(NOTHING); ENUM(LOGICAL); ENUM(INTEGRAL); ENUM(FLOATING); ENUM(TEMPORAL); ENUM(LITERAL);
    ENUM(MIXED); ENUM(BINARY);
#ifdef PROBE_HAS_DENARY
    ENUM(DENARY);
#endif
    std::printf("null.INT %d\nnull.LONG %lld\nnull.BOOL %d\n", (int)INT_MIN, (long long)LLONG_MIN, (int)CHAR_MIN);

    // Counter: the smart pointer's control block.
    {
        alignas(16) unsigned char buf[64];
        std::memset(buf, 0xEE, sizeof buf);
        static int target;
        Counter* c = new (buf) Counter(&target);
        c->addRef(); c->addRef(); c->addRef();  // count_ = 3, found among the 0xEE fill
        std::printf("layout.Counter.size %zu\n", sizeof(Counter));
        std::printf("layout.Counter.p %zu\n", (size_t)((unsigned char*)&c->p_ - buf));
        for (size_t off = 0; off + 4 <= sizeof(Counter); off += 4) {
            int v; std::memcpy(&v, buf + off, 4);
            if (v == 3) std::printf("layout.Counter.count %zu\n", off);
        }
        std::printf("sizeof.SmartPointer %zu\n", sizeof(ConstantSP));
    }

    // DolphinString: size and the bytes of an empty (inline) string.
    {
        alignas(16) unsigned char buf[64];
        std::memset(buf, 0xEE, sizeof buf);
        new (buf) DolphinString();
        std::printf("layout.DolphinString.size %zu\n", sizeof(DolphinString));
        std::printf("layout.DolphinString.empty");
        for (size_t i = 0; i < sizeof(DolphinString); ++i) std::printf(" %d", buf[i]);
        std::printf("\n");
    }

    // Exceptions: which words are strings, which holds the message (the objects are never
    // destroyed: their strings stay allocated until the probe exits).
    {
        alignas(16) static unsigned char rte[512];
        new (rte) RuntimeException(std::string("probe-message"));
        dump_strings("RuntimeException", rte, sizeof(RuntimeException), "probe-message", nullptr);
        alignas(16) static unsigned char iae[512];
        new (iae) IllegalArgumentException(std::string("probe-function"), std::string("probe-message"));
        dump_strings("IllegalArgumentException", iae, sizeof(IllegalArgumentException), "probe-message",
                     "probe-function");
    }

    // Symbols: referenced here so that the generator finds their mangled names in the
    // object file (nm). Never executed: argc is never this large.
    if (argc > 1000000) {
        std::printf("%s", Util::VER.c_str());
        SymbolBaseSP none;
        ConstantSP c(Util::createConstant(DT_STRING));
        ConstantSP d(Util::createDictionary(DT_STRING, none, DT_ANY, none));
        ConstantSP v(Util::createVector(DT_STRING, 0, 0));
        std::vector<std::string> names;
        std::vector<ConstantSP> cols;
        ConstantSP t(Util::createTable(names, cols));
        DolphinString s;
        s.assign("x", 1);
        s.clear();
        c->setString(s);
        throw IllegalArgumentException(std::string("f"), std::string("m"));
    }
    return 0;
}
