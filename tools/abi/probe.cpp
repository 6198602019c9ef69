// ABI probe: compiled against one official DolphinDB `include/` folder (never committed)
// by tools/abi/gen_facts.py. It prints, as "key value" lines, the facts the plugin's ABI
// layer and the test host rely on: vtable slots, the flag_ bit layout, enum values and
// object layouts. Mangled symbol names are read from the probe's object file by the
// generator. Linked with unresolved symbols ignored: it never calls into the server, it
// only takes member-function pointers and runs inline code on scratch buffers.
#include <cstdio>
#include <cstdint>
#include <cstring>
#include <new>
#include <string>
#include <typeinfo>

#include "CoreConcept.h"
#include "DolphinString.h"
#include "Exceptions.h"
#include "Util.h"  // brings the smart pointer and Counter declarations too

namespace ddb {}
using namespace ddb;  // 3.00.3 and later put everything in namespace ddb

// Itanium ABI: a pointer to a virtual member function stores 1 + the byte offset of the
// slot in the vtable; a non-virtual one stores the function address (even).
template <class PMF>
static long slot_of(PMF f) {
    struct Raw { uintptr_t ptr; ptrdiff_t adj; } raw;
    static_assert(sizeof(PMF) == sizeof(Raw), "Itanium member function pointer");
    std::memcpy(&raw, &f, sizeof raw);
    if (!(raw.ptr & 1)) return -1;
    return (long)((raw.ptr - 1) / sizeof(void*));
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

static void dump_words(const char* key, const void* p, size_t size, const void* marker1,
                       const void* marker2, const void* empty) {
    std::printf("layout.%s.size %zu\n", key, size);
    const unsigned char* b = static_cast<const unsigned char*>(p);
    for (size_t off = sizeof(void*); off + sizeof(void*) <= size; off += sizeof(void*)) {
        const void* w;
        std::memcpy(&w, b + off, sizeof w);
        const char* what = "zero";
        if (w == marker1) what = "marker1";
        else if (w == marker2) what = "marker2";
        else if (w == empty) what = "empty_string";
        else if (w != nullptr) what = "other";
        std::printf("layout.%s.word %zu %s\n", key, off, what);
    }
}

int main(int argc, char**) {
    std::printf("sizeof.pointer %zu\n", sizeof(void*));
    std::printf("sizeof.INDEX %zu\n", sizeof(INDEX));

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
    SLOT("setBool", Constant, void, setBool, (char), );
    SLOT("setInt", Constant, void, setInt, (int), );
    SLOT("setLong", Constant, void, setLong, (long long), );
    SLOT("setDouble", Constant, void, setDouble, (double), );
    SLOT("setString", Constant, void, setString, (const DolphinString&), );
    SLOT("getType", Constant, DATA_TYPE, getType, (), const);
    SLOT("getCategory", Constant, DATA_CATEGORY, getCategory, (), const);
    SLOT("exceptionWhat", RuntimeException, const char*, what, (), const);

    // Inline flag_ accessors (where they are inline: slot -1 above).
    probe_field("form", [](const Constant* c) { return (long)c->getForm(); }, 32);
    probe_field("nothing", [](const Constant* c) { return (long)c->isNothing(); }, 32);
    probe_field("temporary", [](const Constant* c) { return (long)c->isTemporary(); }, 32);
    if (slot_of(static_cast<DATA_TYPE (Constant::*)() const>(&Constant::getType)) < 0)
        probe_field("type", [](const Constant* c) { return (long)c->getType(); }, 32);
    if (slot_of(static_cast<DATA_CATEGORY (Constant::*)() const>(&Constant::getCategory)) < 0)
        probe_field("category", [](const Constant* c) { return (long)c->getCategory(); }, 32);
    std::printf("sizeof.Constant %zu\n", sizeof(Constant));

    // Enum values.
#define ENUM(x) std::printf("enum.%s %d\n", #x, (int)(x))
    ENUM(DT_VOID); ENUM(DT_BOOL); ENUM(DT_CHAR); ENUM(DT_SHORT); ENUM(DT_INT); ENUM(DT_LONG);
    ENUM(DT_FLOAT); ENUM(DT_DOUBLE); ENUM(DT_SYMBOL); ENUM(DT_STRING); ENUM(DT_ANY);
    ENUM(DT_BLOB);
    ENUM(DF_SCALAR); ENUM(DF_VECTOR); ENUM(DF_PAIR); ENUM(DF_MATRIX); ENUM(DF_SET);
    ENUM(DF_DICTIONARY); ENUM(DF_TABLE);
    ENUM(NOTHING); ENUM(LOGICAL); ENUM(INTEGRAL); ENUM(FLOATING); ENUM(LITERAL);
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

    // Exceptions: which words are strings, which holds the message.
    {
        std::string empty;
        alignas(16) unsigned char buf[256];
        std::memset(buf, 0, sizeof buf);
        std::string msg("probe-message");
        new (buf) RuntimeException(msg);
        const void* msg_ptr = nullptr;
        // the copy of msg in the exception has its own buffer: find it by content
        for (size_t off = sizeof(void*); off + 8 <= sizeof(RuntimeException); off += 8) {
            const char* w; std::memcpy(&w, buf + off, 8);
            if (w && w != empty.data() && std::strcmp(w, "probe-message") == 0) msg_ptr = w;
        }
        dump_words("RuntimeException", buf, sizeof(RuntimeException), msg_ptr, nullptr, empty.data());

        std::memset(buf, 0, sizeof buf);
        std::string fn("probe-function");
        new (buf) IllegalArgumentException(fn, msg);
        const void* fn_ptr = nullptr; msg_ptr = nullptr;
        for (size_t off = sizeof(void*); off + 8 <= sizeof(IllegalArgumentException); off += 8) {
            const char* w; std::memcpy(&w, buf + off, 8);
            if (!w || w == empty.data()) continue;
            if (std::strcmp(w, "probe-message") == 0) msg_ptr = w;
            if (std::strcmp(w, "probe-function") == 0) fn_ptr = w;
        }
        dump_words("IllegalArgumentException", buf, sizeof(IllegalArgumentException), msg_ptr, fn_ptr, empty.data());
    }

    // Symbols: referenced here so that the generator finds their mangled names in the
    // object file (nm). Never executed: argc is never this large.
    if (argc > 1000000) {
        std::printf("%s", Util::VER.c_str());
        SymbolBaseSP none;
        ConstantSP c(Util::createConstant(DT_STRING));
        ConstantSP d(Util::createDictionary(DT_STRING, none, DT_ANY, none));
        DolphinString s;
        s.assign("x", 1);
        s.clear();
        c->setString(s);
        throw IllegalArgumentException(std::string("f"), std::string("m"));
    }
    return 0;
}
