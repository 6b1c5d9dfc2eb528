#ifndef GROVE_CLIBGIT2_SHIM_H
#define GROVE_CLIBGIT2_SHIM_H

#include <git2.h>
/* An in-memory object store, so predictions (grove merge --plan) can rebase without writing objects. */
#include <git2/sys/odb_backend.h>
#include <git2/sys/mempack.h>

/* git_libgit2_opts is variadic and does not import into Swift: one typed wrapper per option used. */

static inline int cgit_opts_set_search_path(int level, const char *path) {
    return git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, level, path);
}

static inline int cgit_opts_set_mwindow_file_limit(size_t limit) {
    return git_libgit2_opts(GIT_OPT_SET_MWINDOW_FILE_LIMIT, limit);
}

static inline int cgit_opts_set_owner_validation(int enabled) {
    return git_libgit2_opts(GIT_OPT_SET_OWNER_VALIDATION, enabled);
}

static inline int cgit_opts_enable_strict_hash_verification(int enabled) {
    return git_libgit2_opts(GIT_OPT_ENABLE_STRICT_HASH_VERIFICATION, enabled);
}

#endif
