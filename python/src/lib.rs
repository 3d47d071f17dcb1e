//! `import balance_doctor`: the rules engine from Python.
//!
//! A thin layer over `balance-doctor-engine`: rules are compiled once into a `RuleSet`, bundles
//! (dicts or JSON text) are evaluated with the GIL released, and many bundles are evaluated in
//! parallel (rayon) with their order kept. Diagnoses come back as plain dicts in the shape of
//! `schemas/diagnosis.schema.json`, or as that JSON text. Reading rule files and the clock
//! happens here, never in the engine.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::Arc;

use balance_doctor::input::AsOfOrigin;
use balance_doctor::render::JsonReport;
use balance_doctor::rules::{FileReader, ReadOptions};
use balance_doctor_engine::{
    Bundle, DEFAULT_PACK, Diagnosis, EvaluateOptions, ExtendsRequest, Problem, Projection,
    RuleErrors, RuleText, Timestamp, compile_with, parse_as_of,
};
use pyo3::create_exception;
use pyo3::exceptions::{PyException, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyIterator, PyList, PyString};
use rayon::prelude::*;

create_exception!(
    balance_doctor,
    RuleError,
    PyException,
    "Rules that cannot be compiled. `str()` gives every problem, one per line, located as the \
     command line prints them (`file:line:column: rule <id>: <field>: <message>`); `problems` \
     and `warnings` hold them as dicts."
);
create_exception!(
    balance_doctor,
    BundleError,
    PyValueError,
    "A bundle that cannot be evaluated: not a JSON object with `documents`, an invalid `as_of`, \
     a reserved document name. The message says which field and what to do."
);

/// The compiled rules and what of each document they read.
struct Engine {
    rules: balance_doctor_engine::RuleSet,
    projection: Projection,
}

impl Engine {
    fn new(rules: balance_doctor_engine::RuleSet) -> Engine {
        let projection = rules.projection();
        Engine { rules, projection }
    }
}

/// A bundle that cannot be evaluated: why, and its `id` when that could still be read (an
/// error record carries it, as the command line's do, so that it joins back to its input).
struct Failure {
    message: String,
    id: Option<serde_json::Value>,
}

impl From<String> for Failure {
    fn from(message: String) -> Failure {
        Failure { message, id: None }
    }
}

/// One bundle as received: JSON text is parsed and a path read later, without the GIL; a dict
/// is converted while the GIL is held.
enum Input {
    Text(String),
    Path(PathBuf),
    Converted(Result<Bundle, Failure>),
}

/// What evaluating one bundle needs besides the bundle.
#[derive(Clone, Copy)]
struct Settings {
    as_of: Option<Timestamp>,
    now: Timestamp,
    explain: bool,
}

/// A diagnosis, where its `as_of` came from, and the bundle's `id`.
struct Evaluation {
    diagnosis: Diagnosis,
    as_of_from: AsOfOrigin,
    id: Option<serde_json::Value>,
}

type Evaluated = Result<Evaluation, Failure>;

fn evaluate_input(engine: &Engine, input: Input, settings: Settings) -> Evaluated {
    let bundle = match input {
        // Parsed as a batch run parses a record: only what the rules read is built, and a
        // failure says what the command line's error record says.
        Input::Text(text) => balance_doctor::batch::parse_record(&text, &engine.projection)
            .map_err(|(message, id)| Failure { message, id })?,
        Input::Path(path) => {
            balance_doctor::input::read_bundle(&path).map_err(|error| format!("{error:#}"))?
        }
        Input::Converted(bundle) => bundle?,
    };
    let (as_of, as_of_from) = match (settings.as_of, bundle.as_of()) {
        // `flag` is the command line's word for a time given by the caller.
        (Some(as_of), _) => (as_of, AsOfOrigin::Flag),
        (None, Some(as_of)) => (as_of, AsOfOrigin::Bundle),
        (None, None) => (settings.now, AsOfOrigin::Clock),
    };
    let options = EvaluateOptions {
        explain: settings.explain,
    };
    Ok(Evaluation {
        diagnosis: engine.rules.evaluate_with(&bundle, as_of, &options),
        as_of_from,
        id: bundle.id().cloned(),
    })
}

/// A dict (or any mapping) in the single-file bundle form -> a validated bundle.
fn bundle_from_object(object: &Bound<'_, PyAny>) -> Result<Bundle, Failure> {
    let value: serde_json::Value =
        pythonize::depythonize(object).map_err(|error| format!("not a valid bundle: {error}"))?;
    // As the command line does for a record's text: a string or number `id` of an object.
    let id = value
        .get("id")
        .filter(|id| id.is_string() || id.is_number())
        .cloned();
    Bundle::from_value(value).map_err(|error| Failure {
        message: error.to_string(),
        id,
    })
}

fn to_input(object: &Bound<'_, PyAny>) -> Input {
    if let Ok(text) = object.cast::<PyString>() {
        return match text.to_str() {
            Ok(text) => Input::Text(text.to_owned()),
            Err(error) => {
                Input::Converted(Err(format!("the bundle text is not UTF-8: {error}").into()))
            }
        };
    }
    if let Ok(bytes) = object.cast::<PyBytes>() {
        return match std::str::from_utf8(bytes.as_bytes()) {
            Ok(text) => Input::Text(text.to_owned()),
            Err(error) => Input::Converted(Err(
                format!("the bundle bytes are not UTF-8: {error}").into()
            )),
        };
    }
    if object.hasattr("__fspath__").unwrap_or(false) {
        return match object.extract::<PathBuf>() {
            Ok(path) => Input::Path(path),
            Err(error) => Input::Converted(Err(format!("not a usable path: {error}").into())),
        };
    }
    if object.cast::<PyDict>().is_ok() || object.hasattr("keys").unwrap_or(false) {
        return Input::Converted(bundle_from_object(object));
    }
    let type_name = object
        .get_type()
        .name()
        .map(|name| name.to_string())
        .unwrap_or_else(|_| "?".to_owned());
    Input::Converted(Err(format!(
        "a bundle is a dict, its JSON text (str or bytes) or a path, not {type_name}"
    )
    .into()))
}

/// `as_of` as given: `None`, RFC 3339 text, or an aware `datetime.datetime`.
fn as_of_argument(as_of: Option<&Bound<'_, PyAny>>) -> PyResult<Option<Timestamp>> {
    let Some(as_of) = as_of.filter(|value| !value.is_none()) else {
        return Ok(None);
    };
    let text: String = if let Ok(text) = as_of.cast::<PyString>() {
        text.to_str()?.to_owned()
    } else if as_of.hasattr("isoformat")? {
        as_of.call_method0("isoformat")?.extract()?
    } else {
        return Err(PyTypeError::new_err(
            "as_of is RFC 3339 text (such as \"2026-11-20T12:00:00Z\") or a datetime with a timezone",
        ));
    };
    parse_as_of(&text)
        .map(Some)
        .map_err(|error| BundleError::new_err(error.to_string()))
}

fn problem_dict<'py>(py: Python<'py>, problem: &Problem) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    dict.set_item("file", &problem.file)?;
    dict.set_item("line", problem.location.map(|l| l.line))?;
    dict.set_item("column", problem.location.map(|l| l.column))?;
    dict.set_item("rule", problem.rule())?;
    dict.set_item("field", &problem.field)?;
    dict.set_item("kind", pythonize::pythonize(py, &problem.kind)?)?;
    dict.set_item("message", &problem.message)?;
    dict.set_item("text", problem.to_string())?;
    Ok(dict)
}

fn problem_list<'py>(py: Python<'py>, problems: &[Problem]) -> PyResult<Bound<'py, PyList>> {
    let dicts = problems
        .iter()
        .map(|problem| problem_dict(py, problem))
        .collect::<PyResult<Vec<_>>>()?;
    PyList::new(py, dicts)
}

fn rule_error(py: Python<'_>, errors: &RuleErrors) -> PyErr {
    let error = RuleError::new_err(errors.to_string());
    let value = error.value(py);
    let attached = problem_list(py, &errors.problems)
        .and_then(|problems| value.setattr("problems", problems))
        .and_then(|()| problem_list(py, &errors.warnings))
        .and_then(|warnings| value.setattr("warnings", warnings));
    match attached {
        Ok(()) => error,
        Err(other) => other,
    }
}

/// A rule error that is not a problem inside a rules file (a file that cannot be read).
fn file_error(py: Python<'_>, message: String) -> PyErr {
    let error = RuleError::new_err(message);
    let value = error.value(py);
    let attached = PyList::empty(py);
    match value
        .setattr("problems", attached.clone())
        .and_then(|()| value.setattr("warnings", attached))
    {
        Ok(()) => error,
        Err(other) => other,
    }
}

fn compiled(
    py: Python<'_>,
    result: Result<balance_doctor_engine::RuleSet, RuleErrors>,
) -> PyResult<RuleSet> {
    match result {
        Ok(rules) => Ok(RuleSet {
            engine: Arc::new(Engine::new(rules)),
        }),
        Err(errors) => Err(rule_error(py, &errors)),
    }
}

/// Compiled rules, reusable and safe to share between threads.
///
/// `RuleSet()` is the embedded default pack; `RuleSet.from_files(...)` and
/// `RuleSet.from_text(...)` compile your own rules, after the files they `extends`.
#[pyclass(frozen, module = "balance_doctor", name = "RuleSet")]
struct RuleSet {
    engine: Arc<Engine>,
}

#[pymethods]
impl RuleSet {
    /// The embedded default pack.
    #[new]
    fn new(py: Python<'_>) -> PyResult<RuleSet> {
        compiled(py, py.detach(balance_doctor_engine::default_rule_set))
    }

    /// The embedded default pack (the same as `RuleSet()`).
    #[staticmethod]
    fn default(py: Python<'_>) -> PyResult<RuleSet> {
        RuleSet::new(py)
    }

    /// Compiles rules files, each after the files it `extends` (`default` is the embedded pack,
    /// other entries are paths relative to the file), read as `--rules` reads them.
    #[staticmethod]
    #[pyo3(signature = (*paths))]
    fn from_files(py: Python<'_>, paths: Vec<PathBuf>) -> PyResult<RuleSet> {
        if paths.is_empty() {
            return Err(PyValueError::new_err(
                "from_files needs at least one rules file; RuleSet() is the default pack",
            ));
        }
        let result = py
            .detach(|| balance_doctor::rules::compile_files(&paths, ReadOptions::default()))
            .map_err(|error| file_error(py, format!("{error:#}")))?;
        compiled(py, result)
    }

    /// Compiles rules given as text. `name` is how messages and findings name it; `extends`
    /// entries other than `default` are files under `base` (default: the current directory).
    #[staticmethod]
    #[pyo3(signature = (text, name = "<string>", base = None))]
    fn from_text(
        py: Python<'_>,
        text: &str,
        name: &str,
        base: Option<PathBuf>,
    ) -> PyResult<RuleSet> {
        let base = match base {
            Some(base) => base,
            None => std::env::current_dir()
                .map_err(|error| file_error(py, format!("no current directory: {error}")))?,
        };
        let result = py.detach(|| {
            let mut reader = FileReader::new(ReadOptions::default());
            reader.text_in(name, &base);
            compile_with(&[RuleText { name, text }], |request: ExtendsRequest<'_>| {
                reader.read(request)
            })
        });
        compiled(py, result)
    }

    /// The rules, in report order, as dicts (`id`, `title`, `severity`, `file`, `enabled`,
    /// `overridden_by`, `description`, `rationale`, `remediation`, `references`).
    fn rules<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let rules = self
            .engine
            .rules
            .rules()
            .map(|info| pythonize::pythonize(py, &info))
            .collect::<Result<Vec<_>, _>>()?;
        PyList::new(py, rules)
    }

    /// Problems that did not stop compilation, as dicts (see `RuleError.problems`).
    #[getter]
    fn warnings<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        problem_list(py, self.engine.rules.warnings())
    }

    fn __len__(&self) -> usize {
        self.engine.rules.rules().len()
    }

    fn __repr__(&self) -> String {
        format!("<balance_doctor.RuleSet of {} rules>", self.__len__())
    }

    /// Evaluates one bundle (a dict in the single-file form, or its JSON text) and returns the
    /// diagnosis as a dict, or as JSON text with `as_json=True`, with the bundle's `id` when it
    /// has one, as `diagnose --format json` prints it. `as_of` (RFC 3339 text or an aware
    /// datetime) wins over the bundle's own `as_of`; without either, the current time is used.
    /// `as_of_from` says which. Raises `BundleError` for a bundle that is not valid.
    #[pyo3(signature = (bundle, *, as_of = None, explain = false, as_json = false))]
    fn evaluate<'py>(
        &self,
        py: Python<'py>,
        bundle: &Bound<'py, PyAny>,
        as_of: Option<&Bound<'py, PyAny>>,
        explain: bool,
        as_json: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let settings = Settings {
            as_of: as_of_argument(as_of)?,
            now: Timestamp::now(),
            explain,
        };
        let input = to_input(bundle);
        let engine = &self.engine;
        let output = if as_json { Output::Json } else { Output::Dict };
        let evaluated = py.detach(|| prepare(evaluate_input(engine, input, settings), output));
        match evaluated {
            Ok(done) => done.into_python(py),
            Err(failure) => Err(BundleError::new_err(failure.message)),
        }
    }

    /// Evaluates many bundles (any iterable of dicts or JSON texts) in parallel, and returns an
    /// iterator over their diagnoses in input order. Bundles are taken in chunks (1, 2, 4, ...
    /// up to `chunk_size`), so memory stays flat and the first results come at once.
    /// `threads=None` uses every core, `threads=1` evaluates in the calling thread (one Spark
    /// task per core). `errors="raise"` raises `BundleError` at an invalid bundle;
    /// `errors="record"` yields an error record in its place and goes on: `{"id": ..., "error":
    /// message}` (`id` when it can still be read), JSON text with `as_json=True`.
    #[pyo3(signature = (bundles, *, as_of = None, explain = false, as_json = false, threads = None, errors = "raise", chunk_size = 256))]
    #[allow(clippy::too_many_arguments)]
    fn evaluate_many<'py>(
        &self,
        py: Python<'py>,
        bundles: &Bound<'py, PyAny>,
        as_of: Option<&Bound<'py, PyAny>>,
        explain: bool,
        as_json: bool,
        threads: Option<usize>,
        errors: &str,
        chunk_size: usize,
    ) -> PyResult<Diagnoses> {
        let on_error = match errors {
            "raise" => OnError::Raise,
            "record" => OnError::Record,
            other => {
                return Err(PyValueError::new_err(format!(
                    "errors is \"raise\" or \"record\", not {other:?}"
                )));
            }
        };
        if chunk_size == 0 {
            return Err(PyValueError::new_err("chunk_size must be at least 1"));
        }
        let pool = match threads {
            None => None,
            Some(0) => return Err(PyValueError::new_err("threads must be at least 1")),
            Some(1) => Some(None),
            Some(count) => Some(Some(Arc::new(
                rayon::ThreadPoolBuilder::new()
                    .num_threads(count)
                    .build()
                    .map_err(|error| PyValueError::new_err(error.to_string()))?,
            ))),
        };
        let _ = py;
        Ok(Diagnoses {
            engine: Arc::clone(&self.engine),
            source: PyIterator::from_object(bundles)?.unbind(),
            settings: Settings {
                as_of: as_of_argument(as_of)?,
                now: Timestamp::now(),
                explain,
            },
            output: if as_json { Output::Json } else { Output::Dict },
            on_error,
            pool,
            chunk_size,
            next_chunk: 1,
            pending: VecDeque::new(),
            exhausted: false,
        })
    }
}

#[derive(Clone, Copy)]
enum Output {
    Dict,
    Json,
}

#[derive(Clone, Copy)]
enum OnError {
    Raise,
    Record,
}

/// An evaluated bundle, ready to become a Python object (JSON text is made without the GIL).
enum Done {
    Diagnosis(Box<Evaluation>),
    Json(String),
}

impl Evaluation {
    /// What the command line's `--format json` prints: the bundle's `id` (when it has one), the
    /// diagnosis and `as_of_from`, in that order.
    fn report(&self) -> JsonReport<'_> {
        JsonReport {
            id: self.id.as_ref(),
            diagnosis: &self.diagnosis,
            as_of_from: self.as_of_from,
        }
    }
}

/// What takes a failed bundle's place with `errors="record"`: the command line's error record
/// without `origin` (the caller knows where each bundle came from).
#[derive(serde::Serialize)]
struct ErrorRecord<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<&'a serde_json::Value>,
    error: &'a str,
}

impl Failure {
    fn record(&self) -> ErrorRecord<'_> {
        ErrorRecord {
            id: self.id.as_ref(),
            error: &self.message,
        }
    }
}

fn prepare(evaluated: Evaluated, output: Output) -> Result<Done, Failure> {
    let evaluation = evaluated?;
    Ok(match output {
        Output::Dict => Done::Diagnosis(Box::new(evaluation)),
        // Serializing plain data into memory cannot fail.
        Output::Json => Done::Json(serde_json::to_string(&evaluation.report()).unwrap_or_default()),
    })
}

impl Done {
    fn into_python(self, py: Python<'_>) -> PyResult<Bound<'_, PyAny>> {
        match self {
            Done::Diagnosis(evaluation) => Ok(pythonize::pythonize(py, &evaluation.report())?),
            Done::Json(text) => Ok(PyString::new(py, &text).into_any()),
        }
    }
}

/// The iterator `RuleSet.evaluate_many` returns.
#[pyclass(module = "balance_doctor")]
struct Diagnoses {
    engine: Arc<Engine>,
    source: Py<PyIterator>,
    settings: Settings,
    output: Output,
    on_error: OnError,
    /// `None`: rayon's global pool; `Some(None)`: the calling thread; `Some(Some(pool))`.
    pool: Option<Option<Arc<rayon::ThreadPool>>>,
    chunk_size: usize,
    next_chunk: usize,
    pending: VecDeque<Result<Done, Failure>>,
    exhausted: bool,
}

#[pymethods]
impl Diagnoses {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__<'py>(
        mut slf: PyRefMut<'py, Self>,
        py: Python<'py>,
    ) -> PyResult<Option<Bound<'py, PyAny>>> {
        if slf.pending.is_empty() && !slf.exhausted {
            slf.fill(py)?;
        }
        match slf.pending.pop_front() {
            None => Ok(None),
            Some(Ok(done)) => done.into_python(py).map(Some),
            Some(Err(failure)) => match (slf.on_error, slf.output) {
                (OnError::Raise, _) => Err(BundleError::new_err(failure.message)),
                (OnError::Record, Output::Dict) => {
                    Ok(Some(pythonize::pythonize(py, &failure.record())?))
                }
                (OnError::Record, Output::Json) => {
                    // Serializing plain data into memory cannot fail.
                    let text = serde_json::to_string(&failure.record()).unwrap_or_default();
                    Ok(Some(PyString::new(py, &text).into_any()))
                }
            },
        }
    }
}

impl Diagnoses {
    /// Takes the next chunk of bundles from the source and evaluates it without the GIL.
    fn fill(&mut self, py: Python<'_>) -> PyResult<()> {
        let mut inputs = Vec::with_capacity(self.next_chunk);
        let source = self.source.bind(py).clone();
        for _ in 0..self.next_chunk {
            match source.clone().next() {
                Some(item) => inputs.push(to_input(&item?)),
                None => {
                    self.exhausted = true;
                    break;
                }
            }
        }
        self.next_chunk = (self.next_chunk * 2).min(self.chunk_size);
        let engine = &*self.engine;
        let settings = self.settings;
        let output = self.output;
        let run = |input: Input| prepare(evaluate_input(engine, input, settings), output);
        let done: Vec<Result<Done, Failure>> = py.detach(|| match &self.pool {
            Some(None) => inputs.into_iter().map(run).collect(),
            Some(Some(pool)) => pool.install(|| inputs.into_par_iter().map(run).collect()),
            None => inputs.into_par_iter().map(run).collect(),
        });
        self.pending.extend(done);
        Ok(())
    }
}

/// The native part of the `balance_doctor` package.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add_class::<RuleSet>()?;
    m.add_class::<Diagnoses>()?;
    m.add("RuleError", py.get_type::<RuleError>())?;
    m.add("BundleError", py.get_type::<BundleError>())?;
    m.add("DEFAULT_RULES", DEFAULT_PACK.text)?;
    m.add("DEFAULT_RULES_NAME", DEFAULT_PACK.name)?;
    m.add(
        "DIAGNOSIS_VERSION",
        balance_doctor_engine::DIAGNOSIS_VERSION,
    )?;
    Ok(())
}
