from datetime import datetime
from os import PathLike
from typing import Any, Iterable, Iterator, Literal, Optional, Union

Bundle = Union[dict[str, Any], str, bytes]
AsOf = Optional[Union[str, datetime]]

DEFAULT_RULES: str
DEFAULT_RULES_NAME: str
DIAGNOSIS_VERSION: int

class RuleError(Exception):
    problems: list[dict[str, Any]]
    warnings: list[dict[str, Any]]

class BundleError(ValueError): ...

class Diagnoses(Iterator[Any]):
    def __iter__(self) -> "Diagnoses": ...
    def __next__(self) -> Any: ...

class RuleSet:
    def __init__(self) -> None: ...
    @staticmethod
    def default() -> "RuleSet": ...
    @staticmethod
    def from_files(*paths: Union[str, PathLike[str]]) -> "RuleSet": ...
    @staticmethod
    def from_text(
        text: str, name: str = "<string>", base: Optional[Union[str, PathLike[str]]] = None
    ) -> "RuleSet": ...
    def rules(self) -> list[dict[str, Any]]: ...
    @property
    def warnings(self) -> list[dict[str, Any]]: ...
    def __len__(self) -> int: ...
    def evaluate(
        self, bundle: Bundle, *, as_of: AsOf = None, explain: bool = False, as_json: bool = False
    ) -> Any: ...
    def evaluate_many(
        self,
        bundles: Iterable[Bundle],
        *,
        as_of: AsOf = None,
        explain: bool = False,
        as_json: bool = False,
        threads: Optional[int] = None,
        errors: Literal["raise", "record"] = "raise",
        chunk_size: int = 256,
    ) -> Diagnoses: ...
