# Regenerate the R mclust reference data used by the sklearn_em_gmm tests.
#
# Run from the repository root:
#
#     Rscript tests/data/mclust/regenerate.R
#
# Produced with R 4.2.2 (Debian 12) and mclust 6.0.0 (reference BLAS/LAPACK
# 3.11.0).  Install with:
#
#     apt-get install r-base-core r-cran-mclust
#
# No other R package is needed (CSV and JSON are written by hand below).  The
# script only *calls* mclust to produce numbers; no mclust code is copied.
#
# Everything is deterministic (no random numbers are drawn: mclustBIC only
# subsamples for n > mclust.options("subset") = 2000, larger than any data set
# here).  Run time is about 70 s on a 2-core machine.
#
# Files written to tests/data/mclust/ (see README.md there for columns):
#
#   data_<name>.csv         the six data sets, numeric columns, exact doubles
#   bic_default.csv         mclustBIC(data, G = 1:9), all defaults, replayed
#                           per cell with me() for loglik / iteration counts
#   bic_tight.csv           EM from mclust's hc start, tight tolerances
#   bic_prior.csv           same with prior = priorControl()
#   params_tight.json       fitted parameters of a few bic_tight / bic_prior
#                           cells
#   hc_<name>_merge.csv     hc(data, "VVV", use = "SVD") merge pairs
#   hc_<name>_classes.csv   hclass(tree, 1:9)
#   hc_<name>_svd.csv       the transformed data that hc clustered (use="SVD")
#   default_prior.json      defaultPrior(data, G, model), G in {1, 3, 9}
#   nparams.csv             nVarParams / nMclustParams, d 1..6, G 1..9
#   one_mstep.json          mstep() on iris with the hc G = 3 partition
#   meta.json               versions, options, controls, published numbers,
#                           ties, hc alpha, me() iteration trace, notes

t_start <- proc.time()[["elapsed"]]
suppressPackageStartupMessages(library(mclust))

OUT <- file.path("tests", "data", "mclust")
if (!dir.exists(OUT)) {
  stop("run from the repository root: Rscript tests/data/mclust/regenerate.R")
}
options(warn = 1)

MODELS <- c("EII", "VII", "EEI", "VEI", "EVI", "VVI", "EEE", "VEE", "EVE",
            "VVE", "EEV", "VEV", "EVV", "VVV")
stopifnot(identical(MODELS, mclust.options("emModelNames")))
GS <- 1:9

# Tight EM control: relative loglik change |l_k - l_{k-1}| / (1 + |l_k|) and
# the inner (M-step) tolerance.  A looser run (tol 1e-10) is made too, to flag
# cells whose loglik still drifts (slow EM).  With linear convergence the
# distance to the fixed point scales with the stopping tolerance, so the tight
# loglik is within about gap * 1e-3 of it, where gap is the relative
# difference between the loose and the tight loglik; "stable" means
# gap <= 1e-6, i.e. the tight loglik is good to about 1e-9 relative.
TIGHT <- emControl(tol = c(1e-13, 1e-13), itmax = c(200000L, 100000L))
LOOSE <- emControl(tol = c(1e-10, 1e-10), itmax = c(200000L, 100000L))
STABLE_RTOL <- 1e-6

# ---------------------------------------------------------------------------
# Exact number formatting and tiny CSV / JSON writers.

num <- function(x, na = "") {
  # Shortest of %.15g, %.16g, %.17g that reads back to the same double.
  x <- as.double(unclass(x))
  out <- rep(NA_character_, length(x))
  fin <- is.finite(x)
  for (digits in 15:17) {
    todo <- which(fin & is.na(out))
    if (!length(todo)) break
    s <- sprintf(paste0("%.", digits, "g"), x[todo])
    ok <- if (digits == 17) rep(TRUE, length(s)) else as.double(s) == x[todo]
    out[todo[ok]] <- s[ok]
  }
  out[is.na(x)] <- na
  out[is.infinite(x)] <- ifelse(x[is.infinite(x)] > 0, "Infinity", "-Infinity")
  out
}

write_csv <- function(df, file) {
  cols <- lapply(df, function(v) {
    if (is.numeric(v) || is.logical(v)) return(num(as.double(v)))
    v <- as.character(v)
    v[is.na(v)] <- ""
    stopifnot(!any(grepl("[,\"\r\n]", v)))
    v
  })
  lines <- c(paste(names(df), collapse = ","),
             do.call(paste, c(unname(cols), sep = ",")))
  writeLines(lines, file.path(OUT, file))
}

arr <- function(v) structure(as.vector(unclass(v)), class = "json_array")
rows <- function(m) {
  m <- as.matrix(m)
  lapply(seq_len(nrow(m)), function(i) arr(m[i, ]))
}
cube <- function(a) {
  # p x p x G array -> list over G of row lists (numpy shape (G, p, p))
  a <- array(a, dim(a))
  lapply(seq_len(dim(a)[3]), function(k) rows(a[, , k]))
}

json_scalar <- function(v) {
  v <- unclass(v)
  if (is.character(v)) {
    v <- gsub("\\", "\\\\", v, fixed = TRUE)
    v <- gsub("\"", "\\\"", v, fixed = TRUE)
    v <- gsub("\n", "\\n", v, fixed = TRUE)
    return(ifelse(is.na(v), "null", paste0("\"", v, "\"")))
  }
  if (is.logical(v)) return(ifelse(is.na(v), "null", ifelse(v, "true", "false")))
  num(v, na = "null")
}

to_json <- function(x, ind = "") {
  nxt <- paste0(ind, "  ")
  if (is.null(x)) return("null")
  if (is.list(x)) {
    if (!length(x)) return(if (is.null(names(x))) "[]" else "{}")
    items <- vapply(x, to_json, "", ind = nxt)
    if (is.null(names(x))) {
      return(paste0("[\n", nxt, paste(items, collapse = paste0(",\n", nxt)),
                    "\n", ind, "]"))
    }
    keys <- json_scalar(names(x))
    return(paste0("{\n", nxt,
                  paste(paste0(keys, ": ", items), collapse = paste0(",\n", nxt)),
                  "\n", ind, "}"))
  }
  if (inherits(x, "json_array") || length(x) != 1) {
    return(paste0("[", paste(json_scalar(x), collapse = ", "), "]"))
  }
  json_scalar(x)
}

write_json <- function(x, file) {
  writeLines(to_json(x), file.path(OUT, file))
}

# ---------------------------------------------------------------------------
# Data sets.

mdata <- function(name) {
  env <- new.env()
  utils::data(list = name, package = "mclust", envir = env)
  get(name, envir = env)
}
DATA <- list(
  faithful = as.matrix(datasets::faithful),
  iris = as.matrix(datasets::iris[, 1:4]),
  diabetes = as.matrix(mdata("diabetes")[, c("glucose", "insulin", "sspg")]),
  banknote = as.matrix(mdata("banknote")[, -1]),
  thyroid = as.matrix(mdata("thyroid")[, -1]),
  wreath = as.matrix(mdata("wreath"))
)
stopifnot(ncol(DATA$banknote) == 6, ncol(DATA$thyroid) == 5,
          identical(dim(DATA$wreath), c(1000L, 2L)))

ties <- list()
for (name in names(DATA)) {
  x <- DATA[[name]]
  storage.mode(x) <- "double"
  rownames(x) <- NULL
  DATA[[name]] <- x
  write_csv(as.data.frame(x), sprintf("data_%s.csv", name))
  dup <- which(duplicated(x))
  ties[[name]] <- list(
    n = nrow(x), d = ncol(x), columns = colnames(x),
    n_duplicated_rows = length(dup),
    duplicated_rows = arr(dup),
    first_occurrence = arr(vapply(dup, function(i) {
      which(apply(x, 1, function(r) all(r == x[i, ])))[1]
    }, 1L))
  )
}

# ---------------------------------------------------------------------------
# hc: the start that mclustBIC / Mclust use.

HC_MODEL <- mclust.options("hcModelName")
HC_USE <- mclust.options("hcUse")
stopifnot(HC_MODEL == "VVV", HC_USE == "SVD")

TREES <- list()
hc_alpha <- list()
for (name in names(DATA)) {
  x <- DATA[[name]]
  n <- nrow(x)
  d <- ncol(x)
  tree <- hc(x, modelName = HC_MODEL, use = HC_USE)
  TREES[[name]] <- tree
  Z <- attr(tree, "data")

  # The transformation: Z = scale(x) V diag(1/sqrt(s)) = U diag(sqrt(s)),
  # where scale(x) = U diag(s) V' is the thin SVD of the centred, sd-scaled
  # (n - 1 denominator) data.
  sx <- scale(x, center = TRUE, scale = TRUE)
  s <- svd(sx)
  stopifnot(max(abs(Z - sx %*% s$v %*% diag(1 / sqrt(s$d), d, d))) < 1e-12,
            max(abs(abs(Z) - abs(s$u %*% diag(sqrt(s$d), d, d)))) < 1e-12)
  # hc on the transformed data with use = "VARS" gives the same tree.
  stopifnot(identical(as.vector(hc(Z, modelName = HC_MODEL, use = "VARS")),
                      as.vector(tree)))
  # Starts from singletons, merges are (min, max) of two live labels.
  init <- attr(tree, "initialPartition")
  stopifnot(identical(as.vector(init), as.double(seq_len(n))) ||
              identical(as.vector(init), seq_len(n)),
            nrow(tree) == 2, ncol(tree) == n - 1, all(tree[1, ] < tree[2, ]))
  live <- seq_len(n)
  for (l in seq_len(ncol(tree))) {
    stopifnot(tree[1, l] %in% live, tree[2, l] %in% live)
    live <- setdiff(live, tree[2, l])
  }

  write_csv(data.frame(i = as.integer(tree[1, ]), j = as.integer(tree[2, ])),
            sprintf("hc_%s_merge.csv", name))
  cl <- hclass(tree, GS)
  cl <- matrix(as.integer(cl), nrow(cl), dimnames = list(NULL, paste0("G", GS)))
  write_csv(as.data.frame(cl), sprintf("hc_%s_classes.csv", name))
  zdf <- as.data.frame(unname(Z))
  names(zdf) <- paste0("z", seq_len(d))
  write_csv(zdf, sprintf("hc_%s_svd.csv", name))

  Zc <- scale(Z, center = TRUE, scale = FALSE)
  hc_alpha[[name]] <- list(
    singular_values = arr(s$d),
    trace_W_over_np = sum(Zc^2) / (n * d),
    alpha_effective = max(1 * sum(Zc^2) / (n * d), .Machine$double.eps),
    beta = 1
  )
}

# ---------------------------------------------------------------------------
# Helpers for one EM cell.

info_of <- function(o) {
  inf <- attr(o, "info")
  inn <- if (is.null(inf)) NULL else attr(inf, "inner")
  pick <- function(v, k) if (is.null(v) || length(v) < k) NA_real_ else unname(v[k])
  c(n_iter = pick(inf, 1), err = pick(inf, 2),
    inner_iter = pick(inn, 1), inner_err = pick(inn, 2))
}

fit_cell <- function(x, model, G, tree, control, prior = NULL) {
  # Returns a one-row list; G = 1 uses mvn() exactly as mclustBIC does.
  n <- nrow(x)
  d <- ncol(x)
  msg <- character(0)
  catch <- function(expr) {
    withCallingHandlers(expr, warning = function(w) {
      msg <<- c(msg, conditionMessage(w))
      invokeRestart("muffleWarning")
    })
  }
  if (G == 1) {
    o <- catch(mvn(modelName = model, data = x, prior = prior, warn = TRUE))
    method <- "mvn"
    inf <- c(n_iter = NA, err = NA, inner_iter = NA, inner_err = NA)
  } else {
    z <- unmap(hclass(tree, G)[, 1])
    o <- catch(me(data = x, modelName = model, z = z, prior = prior,
                  control = control, warn = TRUE))
    method <- "me"
    inf <- info_of(o)
  }
  ll <- o$loglik
  if (is.null(ll) || length(ll) != 1) ll <- NA_real_
  rc <- attr(o, "returnCode")
  npar <- nMclustParams(model, d = d, G = G)
  b <- if (is.na(ll)) NA_real_ else 2 * ll - npar * log(n)
  if (!is.na(ll)) stopifnot(b == bic(model, ll, n = n, d = d, G = G))
  iters <- abs(inf[["n_iter"]])
  inner <- abs(inf[["inner_iter"]])
  converged <- if (method == "mvn") !is.na(ll) else
    (!is.na(ll) && rc == 0 && iters < control$itmax[1] &&
       (is.na(inner) || inner < control$itmax[2]))
  list(row = list(method = method, loglik = ll, npar = npar, bic = b,
                  n_iter = iters, err = inf[["err"]], inner_iter = inner,
                  inner_err = inf[["inner_err"]], return_code = rc,
                  converged = converged,
                  status = paste(unique(msg), collapse = "; ")),
       fit = o)
}

rbind_rows <- function(rows) {
  cols <- names(rows[[1]])
  out <- lapply(cols, function(k) {
    v <- lapply(rows, function(r) r[[k]])
    v <- lapply(v, function(e) if (is.null(e) || !length(e)) NA else e)
    unlist(v)
  })
  as.data.frame(setNames(out, cols), stringsAsFactors = FALSE)
}

params_of <- function(o) {
  p <- o$parameters
  v <- p$variance
  res <- list(
    pro = arr(p$pro),
    mean = rows(t(as.matrix(p$mean))),
    sigma = cube(v$sigma)
  )
  for (k in c("scale", "shape", "orientation")) {
    if (is.null(v[[k]])) next
    val <- v[[k]]
    if (is.array(val) && length(dim(val)) == 3) {
      res[[k]] <- cube(val)
    } else if (is.matrix(val)) {
      res[[k]] <- rows(val)
    } else {
      res[[k]] <- arr(val)
    }
  }
  res
}

# ---------------------------------------------------------------------------
# 1. bic_default.csv: mclustBIC with all defaults, replayed cell by cell.

published <- list()
default_rows <- list()
for (name in names(DATA)) {
  x <- DATA[[name]]
  B <- mclustBIC(x, G = GS, verbose = FALSE)
  stopifnot(identical(as.vector(attr(B, "initialization")$hcPairs),
                      as.vector(TREES[[name]])))
  RC <- attr(B, "returnCodes")
  for (model in MODELS) for (G in GS) {
    r <- fit_cell(x, model, G, TREES[[name]], emControl())$row
    ref <- B[as.character(G), model]
    stopifnot(identical(is.na(ref), is.na(r$bic)),
              is.na(ref) || ref == r$bic,
              RC[as.character(G), model] == r$return_code)
    default_rows[[length(default_rows) + 1]] <- c(
      list(dataset = name, model = model, G = G, bic = ref),
      r[c("loglik", "npar", "n_iter", "inner_iter", "return_code", "status")])
  }
  if (name == "faithful") published$faithful_EEE_3 <- B["3", "EEE"]
  if (name == "iris") published$iris_VEV_2 <- B["2", "VEV"]
  if (name == "diabetes") published$diabetes_VVV_3 <- B["3", "VVV"]
}
write_csv(rbind_rows(default_rows), "bic_default.csv")
cat("Published BIC values (mclust sign, larger is better):\n")
cat(sprintf("  faithful EEE,3 = %s   (published -2314.316)\n",
            format(published$faithful_EEE_3, digits = 7)))
cat(sprintf("  iris     VEV,2 = %s   (published -561.7285)\n",
            format(published$iris_VEV_2, digits = 7)))
cat(sprintf("  diabetes VVV,3 = %s   (published -4751.316)\n",
            format(published$diabetes_VVV_3, digits = 7)))
stopifnot(round(published$faithful_EEE_3, 3) == -2314.316,
          round(published$iris_VEV_2, 4) == -561.7285,
          round(published$diabetes_VVV_3, 3) == -4751.316)

# ---------------------------------------------------------------------------
# 2. bic_tight.csv and bic_prior.csv.

NO_PRIOR_MODELS <- c("VEE", "EVE", "VVE", "EVV")
prior_refusals <- list()
estep_gap <- 0
PARAM_CELLS <- list(
  list(kind = "tight", dataset = "faithful", model = "EEE", G = 3),
  list(kind = "tight", dataset = "iris", model = "VEV", G = 2),
  list(kind = "tight", dataset = "diabetes", model = "VVV", G = 3),
  list(kind = "tight", dataset = "iris", model = "EVE", G = 3),
  list(kind = "prior", dataset = "iris", model = "VVV", G = 3),
  list(kind = "prior", dataset = "diabetes", model = "VEV", G = 3)
)
params_out <- list()

run_table <- function(kind) {
  prior <- if (kind == "prior") priorControl() else NULL
  out <- list()
  for (name in names(DATA)) {
    x <- DATA[[name]]
    for (model in MODELS) for (G in GS) {
      key <- list(dataset = name, model = model, G = G, n = nrow(x),
                  d = ncol(x))
      if (kind == "prior" && model %in% NO_PRIOR_MODELS) {
        # mclustBIC(prior = ...) silently drops these models; me() refuses.
        z <- unmap(hclass(TREES[[name]], max(G, 2))[, 1])
        msg <- character(0)
        o <- withCallingHandlers(
          me(x, model, z, prior = prior, control = TIGHT, warn = TRUE),
          warning = function(w) {
            msg <<- c(msg, conditionMessage(w))
            invokeRestart("muffleWarning")
          })
        prior_refusals[[model]] <<- list(message = paste(msg, collapse = "; "),
                                         return_code = attr(o, "returnCode"))
        row <- list(method = "refused", loglik = NA_real_,
                    npar = nMclustParams(model, ncol(x), G), bic = NA_real_,
                    n_iter = NA, err = NA, inner_iter = NA, inner_err = NA,
                    return_code = attr(o, "returnCode"), converged = FALSE,
                    status = paste(msg, collapse = "; "))
        out[[length(out) + 1]] <- c(key, row, list(loglik_loose = NA_real_,
                                                   stable = FALSE))
        next
      }
      tight <- fit_cell(x, model, G, TREES[[name]], TIGHT, prior)
      loose <- fit_cell(x, model, G, TREES[[name]], LOOSE, prior)
      r <- tight$row
      l1 <- r$loglik
      l2 <- loose$row$loglik
      stable <- !is.na(l1) && !is.na(l2) && r$converged &&
        abs(l1 - l2) <= STABLE_RTOL * abs(l1)
      if (!is.na(l1) && G > 1) {
        # the reported loglik is the plain observed-data log-likelihood at
        # the returned parameters (also with a prior)
        es <- do.call("estep", c(list(data = x), tight$fit[c("modelName",
                                                             "parameters")]))
        estep_gap <<- max(estep_gap, abs(es$loglik - l1) / abs(l1))
      }
      for (pc in PARAM_CELLS) {
        if (pc$kind == kind && pc$dataset == name && pc$model == model &&
              pc$G == G) {
          stopifnot(!is.na(l1), stable)
          params_out[[length(params_out) + 1]] <<- c(
            pc, list(loglik = l1, n_iter = r$n_iter, inner_iter = r$inner_iter,
                     return_code = r$return_code,
                     control_tol = arr(TIGHT$tol)),
            params_of(tight$fit))
        }
      }
      out[[length(out) + 1]] <- c(key, r, list(loglik_loose = l2,
                                               stable = stable))
    }
  }
  rbind_rows(out)
}

tight_tab <- run_table("tight")
write_csv(tight_tab, "bic_tight.csv")
prior_tab <- run_table("prior")
write_csv(prior_tab, "bic_prior.csv")
write_json(params_out, "params_tight.json")
stopifnot(estep_gap < 1e-12)

# ---------------------------------------------------------------------------
# 3. default_prior.json

dp <- list()
for (name in names(DATA)) {
  x <- DATA[[name]]
  dp[[name]] <- list()
  for (model in MODELS) {
    dp[[name]][[model]] <- list()
    for (G in c(1, 3, 9)) {
      p <- defaultPrior(x, G = G, modelName = model)
      dp[[name]][[model]][[as.character(G)]] <- list(
        shrinkage = p$shrinkage,
        mean = arr(p$mean),
        dof = p$dof,
        scale = if (is.matrix(p$scale)) rows(p$scale) else p$scale
      )
    }
  }
}
write_json(dp, "default_prior.json")

# ---------------------------------------------------------------------------
# 4. nparams.csv

np_rows <- list()
for (model in MODELS) for (d in 1:6) for (G in GS) {
  np_rows[[length(np_rows) + 1]] <- list(
    model = model, d = d, G = G,
    nVarParams = nVarParams(model, d = d, G = G),
    nMclustParams = nMclustParams(model, d = d, G = G))
}
write_csv(rbind_rows(np_rows), "nparams.csv")

# ---------------------------------------------------------------------------
# 5. one_mstep.json: a single M-step on iris from the hc G = 3 partition.

x <- DATA$iris
z3 <- unmap(hclass(TREES$iris, 3)[, 1])
INNER_TIGHT <- emControl(tol = c(1e-13, 1e-13), itmax = c(200000L, 100000L))
mstep_entry <- function(model, prior, control) {
  msg <- character(0)
  o <- withCallingHandlers(
    mstep(x, model, z3, prior = prior, control = control, warn = TRUE),
    warning = function(w) {
      msg <<- c(msg, conditionMessage(w))
      invokeRestart("muffleWarning")
    })
  refused <- !is.null(prior) && model %in% NO_PRIOR_MODELS
  inf <- attr(o, "info")
  res <- list(available = !refused,
              message = paste(msg, collapse = "; "),
              return_code = attr(o, "returnCode"),
              inner_iter = if (is.null(inf)) NULL else unname(inf[1]),
              inner_err = if (is.null(inf)) NULL else unname(inf[2]),
              control_tol_inner = if (is.null(control)) emControl()$tol[2] else
                control$tol[2])
  if (!refused) res <- c(res, params_of(o))
  res
}
ms <- list(dataset = "iris", G = 3,
           hc_partition = arr(hclass(TREES$iris, 3)[, 1]),
           models = list())
for (model in MODELS) {
  ms$models[[model]] <- list(
    none = mstep_entry(model, NULL, NULL),
    none_tight_inner = mstep_entry(model, NULL, INNER_TIGHT),
    prior = mstep_entry(model, priorControl(), NULL),
    prior_tight_inner = mstep_entry(model, priorControl(), INNER_TIGHT))
}
write_json(ms, "one_mstep.json")

# ---------------------------------------------------------------------------
# 6. meta.json: versions, controls and facts checked above.

# How me() counts: iteration k = one M-step then one E-step; the reported
# loglik after k iterations is the E-step loglik after the k-th M-step.
trace_me <- list()
for (model in c("VVV", "VEV")) {
  manual <- numeric(0)
  zz <- z3
  for (k in 1:5) {
    m1 <- mstep(x, model, zz, control = INNER_TIGHT)
    e1 <- do.call("estep", c(list(data = x), m1[c("modelName", "parameters")]))
    zz <- e1$z
    manual[k] <- e1$loglik
  }
  by_itmax <- vapply(1:5, function(k) {
    me(x, model, z3, control = emControl(tol = c(0, 1e-13),
                                         itmax = c(k, 100000L)))$loglik
  }, 0)
  errs <- vapply(2:5, function(k) {
    unname(attr(me(x, model, z3, control = emControl(
      tol = c(0, 1e-13), itmax = c(k, 100000L))), "info")[2])
  }, 0)
  stopifnot(max(abs(manual - by_itmax) / abs(manual)) < 1e-9,
            max(abs(errs - abs(diff(manual)) / (1 + abs(manual[-1])))) < 1e-9)
  trace_me[[model]] <- list(loglik_manual_mstep_estep = arr(manual),
                            loglik_me_itmax_1_to_5 = arr(by_itmax),
                            err_me_itmax_2_to_5 = arr(errs))
}

meta <- list(
  R_version = R.version.string,
  mclust_version = as.character(packageVersion("mclust")),
  blas = basename(extSoftVersion()[["BLAS"]]),
  lapack = basename(La_library()),
  lapack_version = La_version(),
  models = arr(MODELS),
  mclust_options = list(hcModelName = HC_MODEL, hcUse = HC_USE,
                        subset = mclust.options("subset")),
  emControl_default = list(tol = arr(emControl()$tol),
                           itmax = arr(emControl()$itmax),
                           eps = emControl()$eps),
  tight_control = list(tol = arr(TIGHT$tol), itmax = arr(TIGHT$itmax)),
  loose_control = list(tol = arr(LOOSE$tol), itmax = arr(LOOSE$itmax)),
  stable_rtol = STABLE_RTOL,
  published_bic = published,
  datasets = ties,
  hc = list(call = "hc(data, modelName = \"VVV\", use = \"SVD\")",
            alpha_default = 1, beta_default = 1, per_dataset = hc_alpha),
  prior_refused_models = prior_refusals,
  max_rel_gap_me_loglik_vs_estep = estep_gap,
  me_iteration_trace_iris_G3 = trace_me
)
write_json(meta, "meta.json")

cat(sprintf("done in %.1f s\n", proc.time()[["elapsed"]] - t_start))
