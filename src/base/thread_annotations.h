// Clang thread-safety analysis attributes (-Wthread-safety), as macros.
//
// They document which mutex guards which state and let clang prove it at
// compile time. Under GCC, or clang without the analysis, they expand to
// nothing, so annotated code compiles everywhere.
// See https://clang.llvm.org/docs/ThreadSafetyAnalysis.html.

#ifndef ACPSTORE_BASE_THREAD_ANNOTATIONS_H_
#define ACPSTORE_BASE_THREAD_ANNOTATIONS_H_

#if defined(__clang__)
#define ACPSTORE_THREAD_ANNOTATION_(x) __attribute__((x))
#else
#define ACPSTORE_THREAD_ANNOTATION_(x)
#endif

// A class that is a lock (Mutex).
#define CAPABILITY(x) ACPSTORE_THREAD_ANNOTATION_(capability(x))
// An RAII class that holds a lock for its lifetime (MutexLock).
#define SCOPED_CAPABILITY ACPSTORE_THREAD_ANNOTATION_(scoped_lockable)

// Data that may be touched only with the given lock held.
#define GUARDED_BY(x) ACPSTORE_THREAD_ANNOTATION_(guarded_by(x))
// Pointer whose pointee may be touched only with the lock held.
#define PT_GUARDED_BY(x) ACPSTORE_THREAD_ANNOTATION_(pt_guarded_by(x))

// Lock ordering.
#define ACQUIRED_BEFORE(...) \
  ACPSTORE_THREAD_ANNOTATION_(acquired_before(__VA_ARGS__))
#define ACQUIRED_AFTER(...) \
  ACPSTORE_THREAD_ANNOTATION_(acquired_after(__VA_ARGS__))

// The caller must hold (REQUIRES) or must not hold (EXCLUDES) the lock.
#define REQUIRES(...) \
  ACPSTORE_THREAD_ANNOTATION_(requires_capability(__VA_ARGS__))
#define REQUIRES_SHARED(...) \
  ACPSTORE_THREAD_ANNOTATION_(requires_shared_capability(__VA_ARGS__))
#define EXCLUDES(...) ACPSTORE_THREAD_ANNOTATION_(locks_excluded(__VA_ARGS__))

// The function takes or releases the lock.
#define ACQUIRE(...) \
  ACPSTORE_THREAD_ANNOTATION_(acquire_capability(__VA_ARGS__))
#define ACQUIRE_SHARED(...) \
  ACPSTORE_THREAD_ANNOTATION_(acquire_shared_capability(__VA_ARGS__))
#define RELEASE(...) \
  ACPSTORE_THREAD_ANNOTATION_(release_capability(__VA_ARGS__))
#define RELEASE_SHARED(...) \
  ACPSTORE_THREAD_ANNOTATION_(release_shared_capability(__VA_ARGS__))
#define TRY_ACQUIRE(...) \
  ACPSTORE_THREAD_ANNOTATION_(try_acquire_capability(__VA_ARGS__))

// Tells the analysis the lock is held (checked at run time by the callee).
#define ASSERT_CAPABILITY(x) \
  ACPSTORE_THREAD_ANNOTATION_(assert_capability(x))
// The function returns a reference to the given lock.
#define RETURN_CAPABILITY(x) ACPSTORE_THREAD_ANNOTATION_(lock_returned(x))

// Opts one function out of the analysis. Say why next to every use.
#define NO_THREAD_SAFETY_ANALYSIS \
  ACPSTORE_THREAD_ANNOTATION_(no_thread_safety_analysis)

#endif  // ACPSTORE_BASE_THREAD_ANNOTATIONS_H_
