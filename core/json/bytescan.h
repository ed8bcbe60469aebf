#pragma once

#include <QtGlobal>

#include <cstring>

// Eight bytes at a time for the byte loops of the JSON hot paths (answer and
// prompt texts are long ASCII runs). Each test is non-zero exactly when some
// byte of the word matches: a borrow only reaches a byte from a lower byte
// that matched already.
//
// Thread: pure functions.
namespace ByteScan {

constexpr quint64 kOnes = 0x0101010101010101ULL;
constexpr quint64 kHighs = 0x8080808080808080ULL;

inline quint64 load8(const char *p)
{
    quint64 w;
    std::memcpy(&w, p, 8);
    return w;
}

// Some byte of `w` is below `n` (n <= 0x80).
constexpr quint64 anyBelow(quint64 w, uchar n)
{
    return (w - kOnes * n) & ~w & kHighs;
}

// Some byte of `w` equals `c`.
constexpr quint64 anyEqual(quint64 w, uchar c)
{
    return anyBelow(w ^ (kOnes * c), 1);
}

// Some byte of `w` is a control character, '"', '\\' or not ASCII: the bytes
// a JSON string literal cannot copy as they are.
constexpr quint64 anySpecial(quint64 w)
{
    return (w & kHighs) | anyBelow(w, 0x20) | anyEqual(w, '"') | anyEqual(w, '\\');
}

} // namespace ByteScan
