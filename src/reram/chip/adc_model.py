"""ADC energy per conversion and area, against resolution. Three energy models, one per preset:

* ``table``: a cited energy per bit count; outside the table, Walden scaling (x2 per bit) from the nearest entry;
* ``walden``: Walden figure of merit x 2^b (energy per conversion step; Murmann's ADC survey);
* ``linear``: energy per bit cycle x b, for SAR-style converters whose energy grows with their b comparison cycles
  (or a ramp converter quoted per bit of its counter).

The band reported with every result is the nominal energy times the preset's ``band_low`` and ``band_high``
factors (``band_low <= 1 <= band_high`` is checked), so the nominal value lies inside its band at every resolution
by construction.

Area: A(b) = A_ref x (f + (1 - f) x 2^(b - b_ref)). A SAR ADC's capacitive DAC holds 2^b unit capacitors, so that
part doubles per bit, while the comparator and the SAR logic (the fraction f at the reference resolution) do not;
A_ref, b_ref and f are the preset's, each with its source.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from reram.errors import ConfigError

from .figures import Figure, toml_str

ADC_MODELS = ("table", "walden", "linear")
_PARAM = {"table": "table_j", "walden": "fom_j", "linear": "energy_per_bit_j"}
_COMMON = ("model", "source", "band_low", "band_high", "band_source", "area_ref_mm2", "area_ref_bits",
           "area_fixed_fraction", "area_source")


@dataclass(frozen=True)
class AdcModel:
    model: str
    source: str
    band_low: float
    band_high: float
    band_source: str
    area_ref_mm2: float
    area_ref_bits: int
    area_fixed_fraction: float
    area_source: str
    table_j: dict[int, float] = field(default_factory=dict)
    fom_j: float = 0.0
    energy_per_bit_j: float = 0.0

    def energy(self, bits: int) -> Figure:
        """Nominal energy per conversion at ``bits``."""
        if self.model == "walden":
            return Figure(self.fom_j * 2.0**bits, "J/conversion", f"{self.source}: {self.fom_j * 1e15:g} fJ/step "
                          f"x 2^{bits}")
        if self.model == "linear":
            return Figure(self.energy_per_bit_j * bits, "J/conversion",
                          f"{self.source}: {self.energy_per_bit_j * 1e15:g} fJ per bit cycle x {bits}")
        if bits in self.table_j:
            return Figure(self.table_j[bits], "J/conversion", self.source)
        end = min(self.table_j) if bits < min(self.table_j) else max(self.table_j)
        return Figure(self.table_j[end] * 2.0 ** (bits - end), "J/conversion",
                      f"{self.source}; extended from {end} bits by 2^b (Walden scaling)")

    def band(self, bits: int) -> tuple[float, float]:
        e = self.energy(bits).value
        return e * self.band_low, e * self.band_high

    def area(self, bits: int) -> float:
        f = self.area_fixed_fraction
        return self.area_ref_mm2 * (f + (1 - f) * 2.0 ** (bits - self.area_ref_bits))

    def to_dict(self) -> dict:
        d = {k: getattr(self, k) for k in _COMMON}
        d[_PARAM[self.model]] = getattr(self, _PARAM[self.model])
        return d

    def toml_lines(self) -> list[str]:
        q = toml_str
        out = ["[adc]", f"# energy model: {' | '.join(ADC_MODELS)}", f"model = {q(self.model)}",
               f"source = {q(self.source)}"]
        if self.model == "table":
            out.append("# J per conversion at each bit count (beyond the table: x2 per bit)")
            out.append("table_j = { " + ", ".join(f"{b} = {float(v)!r}" for b, v in sorted(self.table_j.items()))
                       + " }")
        elif self.model == "walden":
            out += ["# Walden figure of merit, J per conversion step (energy = fom_j x 2^bits)",
                    f"fom_j = {self.fom_j!r}"]
        else:
            out += ["# J per bit cycle (energy = energy_per_bit_j x bits)",
                    f"energy_per_bit_j = {self.energy_per_bit_j!r}"]
        out += ["# band reported with every result: nominal x band_low .. nominal x band_high",
                f"band_low = {self.band_low!r}", f"band_high = {self.band_high!r}",
                f"band_source = {q(self.band_source)}",
                "# area: area_ref_mm2 x (area_fixed_fraction + (1 - area_fixed_fraction) x 2^(bits - area_ref_bits))",
                f"area_ref_mm2 = {self.area_ref_mm2!r}", f"area_ref_bits = {self.area_ref_bits}",
                f"area_fixed_fraction = {self.area_fixed_fraction!r}", f"area_source = {q(self.area_source)}"]
        return out

    @classmethod
    def from_toml(cls, d: dict, where: str) -> AdcModel:
        from reram.chip.energy_preset import check_number

        model = d.get("model")
        if model not in ADC_MODELS:
            raise ConfigError(f"{where}.model is {model!r}; choose one of {', '.join(ADC_MODELS)}")
        allowed = set(_COMMON) | {_PARAM[model]}
        extra = sorted(set(d) - allowed)
        if extra:
            raise ConfigError(f"{where}.{extra[0]} does nothing with model = {model!r}; remove it (that model uses "
                              f"{_PARAM[model]})")
        for key in (*_COMMON, _PARAM[model]):
            if key not in d:
                raise ConfigError(f"{where}.{key} is missing; add it (see 'reram energy presets --show isaac-32nm')")
        for key in ("source", "band_source", "area_source"):
            if not isinstance(d[key], str) or not d[key].strip():
                raise ConfigError(f"{where}.{key} must be a non-empty string (a citation or a derivation)")
        num = {k: check_number(d[k], f"{where}.{k}") for k in ("band_low", "band_high", "area_ref_mm2",
                                                                 "area_fixed_fraction", "area_ref_bits")}
        if not num["band_low"] <= 1.0 <= num["band_high"]:
            raise ConfigError(f"{where}: band_low = {num['band_low']:g} and band_high = {num['band_high']:g} must "
                              "bracket the nominal energy (band_low <= 1 <= band_high; they are factors on it)")
        if num["area_fixed_fraction"] > 1:
            raise ConfigError(f"{where}.area_fixed_fraction = {num['area_fixed_fraction']:g} must be in [0, 1]")
        if num["area_ref_bits"] != int(num["area_ref_bits"]) or num["area_ref_bits"] < 1:
            raise ConfigError(f"{where}.area_ref_bits = {d['area_ref_bits']!r} must be a positive whole number")
        kw: dict = {}
        if model == "table":
            t = d["table_j"]
            if not isinstance(t, dict) or not t:
                raise ConfigError(f"{where}.table_j [J per conversion] must be a table {{ 8 = 1.5e-12, ... }}")
            table = {}
            for b, v in t.items():
                if not str(b).isdigit() or not 1 <= int(b) <= 16:
                    raise ConfigError(f"{where}.table_j: key {b!r} is not a bit count from 1 to 16")
                table[int(b)] = check_number(v, f"{where}.table_j.{b} [J per conversion]")
            kw["table_j"] = table
        else:
            kw[_PARAM[model]] = check_number(d[_PARAM[model]], f"{where}.{_PARAM[model]} [J]")
        return cls(model=model, source=d["source"], band_low=num["band_low"], band_high=num["band_high"],
                   band_source=d["band_source"], area_ref_mm2=num["area_ref_mm2"],
                   area_ref_bits=int(num["area_ref_bits"]), area_fixed_fraction=num["area_fixed_fraction"],
                   area_source=d["area_source"], **kw)
