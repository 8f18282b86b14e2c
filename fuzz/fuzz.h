/*
 * fuzz.h -- what every harness of fuzz/ shares
 *
 * A harness defines LLVMFuzzerTestOneInput() and nothing else global.  It
 * is linked two ways (fuzz/fuzz.am):
 *   - with libFuzzer (./configure --enable-fuzzers): fuzz/NAME-fuzzer,
 *     which mutates inputs under ASan and UBSan;
 *   - with fuzz/replay.c, a plain main() built by the normal compiler:
 *     fuzz/NAME-replay, which feeds every saved input of
 *     fuzz/corpus/NAME and fuzz/regress/NAME to the harness under
 *     `make check`.
 * A harness checks what the module promises (bounds, invariants, that
 * an event is printable ASCII) and calls fuzz_fail() when a promise is
 * broken: that aborts, so both libFuzzer and the replay report it.
 */
#ifndef FUZZ_H
#define FUZZ_H

#include <stddef.h>
#include <stdint.h>

#include "core/finding.h"
#include "core/policy.h"
#include "core/rule.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Report a broken promise on stderr and abort(). */
void fuzz_fail(const char *harness, const char *what)
	__attribute__((noreturn));

/* Build the decision event for findings f at stage, with helo and sender
   as attacker bytes, and check that it is one line of printable ASCII
   that ends in "\n" (escaping happened).  NULL from the builder (memory)
   is allowed. */
void fuzz_check_event(const char *harness, enum rule_stage stage,
		      const struct policy *pol, const struct finding_list *f,
		      const char *helo, size_t helo_len, const char *sender,
		      size_t sender_len);

/* Check that an event is one line of printable ASCII ending in "\n". */
void fuzz_check_line(const char *harness, const char *line);

/* Check the findings of a list: rule ids in range, samples within their
   buffers and within the value. */
void fuzz_check_findings(const char *harness, const struct finding_list *f);

#endif
