//===- Regex.cpp - PCRE2 regexes and split patterns -----------------------===//
//
// Part of the qopt project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "TokenizerInternal.h"

namespace qrt {
namespace detail {

bool Regex::compile(const std::string &pattern, std::string &error) {
  int errorCode = 0;
  PCRE2_SIZE errorOffset = 0;
  code_ = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()),
                        pattern.size(), PCRE2_UTF | PCRE2_UCP, &errorCode,
                        &errorOffset, nullptr);
  if (!code_) {
    PCRE2_UCHAR buffer[256];
    pcre2_get_error_message(errorCode, buffer, sizeof(buffer));
    error = std::string(reinterpret_cast<const char *>(buffer)) +
            " at offset " + std::to_string(errorOffset);
    return false;
  }
  // JIT is optional: matching falls back to the interpreter without it.
  (void)pcre2_jit_compile(code_, PCRE2_JIT_COMPLETE);
  return true;
}

void Regex::findAll(const std::string &s,
                    std::vector<std::pair<size_t, size_t>> &out) const {
  pcre2_match_data *md = pcre2_match_data_create_from_pattern(code_, nullptr);
  if (!md)
    return;
  size_t pos = 0, lastEnd = 0;
  bool haveLast = false;
  uint32_t options = PCRE2_NO_UTF_CHECK;
  const auto *subject = reinterpret_cast<PCRE2_SPTR>(s.data());
  while (pos <= s.size()) {
    int rc = pcre2_match(code_, subject, s.size(), pos, options, md, nullptr);
    if (rc == PCRE2_ERROR_JIT_STACKLIMIT && !(options & PCRE2_NO_JIT)) {
      options |= PCRE2_NO_JIT; // retry with the interpreter
      continue;
    }
    if (rc < 0)
      break; // no match (or a resource limit: the rest stays unmatched)
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
    size_t ms = ov[0], me = ov[1];
    if (ms == me && haveLast && lastEnd == me) {
      if (pos >= s.size())
        break;
      pos += utf8Len(static_cast<unsigned char>(s[pos]));
      continue;
    }
    out.emplace_back(ms, me);
    pos = me;
    lastEnd = me;
    haveLast = true;
  }
  pcre2_match_data_free(md);
}

std::shared_ptr<Regex> compileRegex(const std::string &pattern,
                                    const std::string &context) {
  auto re = std::make_shared<Regex>();
  std::string error;
  if (!re->compile(pattern, error))
    fail(context + ": invalid regex '" + pattern + "': " + error);
  return re;
}

void Pattern::matches(const std::string &s,
                      std::vector<std::pair<size_t, size_t>> &out) const {
  if (regex) {
    regex->findAll(s, out);
    return;
  }
  size_t pos = 0;
  while ((pos = s.find(literal, pos)) != std::string::npos) {
    out.emplace_back(pos, pos + literal.size());
    pos += literal.size();
  }
}

std::vector<Span> Pattern::spans(const std::string &s) const {
  std::vector<Span> out;
  if (s.empty()) {
    out.push_back({0, 0, false});
    return out;
  }
  std::vector<std::pair<size_t, size_t>> ms;
  matches(s, ms);
  size_t prev = 0;
  for (auto &m : ms) {
    if (prev != m.first)
      out.push_back({prev, m.first, false});
    out.push_back({m.first, m.second, true});
    prev = m.second;
  }
  if (prev != s.size())
    out.push_back({prev, s.size(), false});
  return out;
}

std::vector<std::pair<size_t, size_t>> applyBehavior(std::vector<Span> spans,
                                                     Behavior behavior) {
  struct R {
    size_t b, e;
    bool remove;
  };
  std::vector<R> rs;
  switch (behavior) {
  case Behavior::Isolated:
    for (auto &s : spans)
      rs.push_back({s.begin, s.end, false});
    break;
  case Behavior::Removed:
    for (auto &s : spans)
      rs.push_back({s.begin, s.end, s.match});
    break;
  case Behavior::Contiguous: {
    bool previousMatch = false;
    for (auto &s : spans) {
      if (s.match == previousMatch && !rs.empty())
        rs.back().e = s.end;
      else
        rs.push_back({s.begin, s.end, false});
      previousMatch = s.match;
    }
    break;
  }
  case Behavior::MergedWithPrevious: {
    bool previousMatch = false;
    for (auto &s : spans) {
      if (s.match && !previousMatch && !rs.empty())
        rs.back().e = s.end;
      else
        rs.push_back({s.begin, s.end, false});
      previousMatch = s.match;
    }
    break;
  }
  case Behavior::MergedWithNext: {
    bool previousMatch = false;
    for (auto it = spans.rbegin(); it != spans.rend(); ++it) {
      if (it->match && !previousMatch && !rs.empty())
        rs.back().b = it->begin;
      else
        rs.push_back({it->begin, it->end, false});
      previousMatch = it->match;
    }
    std::reverse(rs.begin(), rs.end());
    break;
  }
  }
  std::vector<std::pair<size_t, size_t>> out;
  for (auto &r : rs)
    if (!r.remove)
      out.emplace_back(r.b, r.e);
  return out;
}

} // namespace detail
} // namespace qrt
