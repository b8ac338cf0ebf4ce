"""producer.config_file / consumer.config_file: the application's own settings file under the scenario's config,
gated by the same preset checks; errors at the file's line; the run records which keys came from it."""

import json
import textwrap

import pytest
from typer.testing import CliRunner

from kafka_chaos import report, settingsfile, yamlfile
from kafka_chaos.cli import app
from kafka_chaos.errors import ScenarioError
from kafka_chaos.masking import is_secret, mask
from kafka_chaos.scenario import SettingsFile, _masked, from_dict, load

CLUSTER = '{bootstrap: "127.0.0.1:19092", containers: {1: kafka-1, 2: kafka-2, 3: kafka-3}}'


def scenario(tmp_path, producer="{semantic: idempotent, config_file: producer.properties}",
             consumer="{mode: commit-after-process}"):
    """A scenario with producer on line 3 and consumer on line 4."""
    path = tmp_path / "s.yaml"
    path.write_text(f"duration: 10s\ncluster: {CLUSTER}\nproducer: {producer}\nconsumer: {consumer}\n")
    return path


def write(tmp_path, name, text):
    (tmp_path / name).write_text(textwrap.dedent(text))


def refused(path) -> str:
    with pytest.raises(ScenarioError) as e:
        load(path)
    assert "\n" not in str(e.value)
    return str(e.value)


# -- reading .properties -------------------------------------------------------------------------

def test_properties_syntax_as_java_reads_it_with_each_keys_line():
    text = ("# comment\n! also a comment\nacks=all\nenable.idempotence : true\nlinger.ms 20\n"
            "client.id = app-\\\n    one\n\nsasl.plain.username=caf\\u00e9\\tx\nkey\\=with\\:marks=v\n")
    assert settingsfile.properties(text) == [
        ("acks", "all", 3), ("enable.idempotence", "true", 4), ("linger.ms", "20", 5), ("client.id", "app-one", 6),
        ("sasl.plain.username", "café\tx", 9), ("key=with:marks", "v", 10)]


def test_properties_with_cr_line_ends_count_lines_as_java_does():
    assert settingsfile.properties("a=1\r\nb=2\rc=3") == [("a", "1", 1), ("b", "2", 2), ("c", "3", 3)]


@pytest.mark.parametrize("text, line, why", [
    ("acks=all\nretries=1\nacks=1\n", 3, "'acks' given twice (also on line 1"),
    ("acks=all\nclient.id=\\u00zz\n", 2, "\\u00zz is not a \\uXXXX escape"),
])
def test_a_bad_properties_file_names_the_line(tmp_path, text, line, why):
    (tmp_path / "p.properties").write_text(text)
    with pytest.raises(settingsfile.Problem) as e:
        settingsfile.read(tmp_path / "p.properties")
    assert e.value.line == line and why in str(e.value)


def test_yaml_and_json_files_are_mappings_by_extension(tmp_path):
    (tmp_path / "p.yaml").write_text("acks: all\nlinger.ms: 20\n")
    (tmp_path / "p.json").write_text('{\n  "acks": "all",\n  "linger.ms": 20\n}\n')
    assert settingsfile.read(tmp_path / "p.yaml") == [("acks", "all", 1), ("linger.ms", 20, 2)]
    assert settingsfile.read(tmp_path / "p.json") == [("acks", "all", 2), ("linger.ms", 20, 3)]


# -- in a scenario -------------------------------------------------------------------------------

def test_the_files_settings_are_the_producers_and_the_scenario_config_wins_in_either_spelling(tmp_path):
    write(tmp_path, "producer.properties", """\
        bootstrap.servers=prod-1:9092
        acks=all
        linger.ms=50
        batch.size=1000
        """)
    s = load(scenario(tmp_path, "{semantic: idempotent, config_file: producer.properties, "
                                "config: {linger_ms: 5, batch.size: 2000}}"))
    assert s.producer.config["linger_ms"] == 5 and s.producer.config["batch_size"] == 2000
    assert s.producer.config["acks"] == "all" and "bootstrap_servers" not in s.producer.config
    assert s.producer.settings_file == SettingsFile("producer.properties", ("acks",), ("bootstrap.servers",))


def test_a_preset_violation_in_the_file_is_refused_at_the_files_line(tmp_path):
    write(tmp_path, "producer.properties", "# app\nacks=1\n")
    assert refused(scenario(tmp_path)) == (f"{tmp_path}/producer.properties:2: producer.config_file: acks: 1 "
                                           "contradicts semantic idempotent (idempotence needs acks=all)")


def test_a_preset_violation_of_the_merge_is_refused_where_the_scenario_gave_it(tmp_path):
    write(tmp_path, "producer.properties", "acks=all\n")
    message = refused(scenario(tmp_path, "{semantic: idempotent, config_file: producer.properties, "
                                         "config: {acks: 1}}"))
    assert message.startswith(f"{tmp_path}/s.yaml:3: producer.config.acks: 1 contradicts semantic idempotent")


def test_the_file_adds_a_setting_the_preset_forbids(tmp_path):
    write(tmp_path, "producer.properties", "enable.idempotence=true\n")
    message = refused(scenario(tmp_path, "{semantic: at-least-once, config_file: producer.properties}"))
    assert message.startswith(f"{tmp_path}/producer.properties:1: producer.config_file: enable.idempotence: true "
                              "makes the producer idempotent")


@pytest.mark.parametrize("text, why", [
    ("transactional.id=app\n", "kchaos sets transactional_id itself"),
    ("no.such.setting=1\n", "not a kafka-python producer setting"),
    ("linger.ms=soon\n", "'soon' is not a number"),
])
def test_every_existing_check_applies_to_the_files_keys(tmp_path, text, why):
    write(tmp_path, "producer.properties", text)
    message = refused(scenario(tmp_path))
    assert message.startswith(f"{tmp_path}/producer.properties:1: producer.config_file: ") and why in message


def test_a_consumer_file_agreeing_with_the_mode_passes_and_one_contradicting_it_is_refused(tmp_path):
    write(tmp_path, "consumer.properties", "group.id=app\nenable.auto.commit=false\nmax.poll.records=10\n")
    s = load(scenario(tmp_path, "{semantic: at-least-once}",
                      "{mode: commit-after-process, config_file: consumer.properties}"))
    assert s.consumer.config["max_poll_records"] == 10 and s.consumer.config["enable_auto_commit"] is False
    assert s.consumer.settings_file == SettingsFile("consumer.properties", ("enable.auto.commit", "max.poll.records"),
                                                    ("group.id",))
    message = refused(scenario(tmp_path, "{semantic: at-least-once}",
                               "{mode: auto-commit, config_file: consumer.properties}"))
    assert message.startswith(f"{tmp_path}/consumer.properties:2: consumer.config_file: enable.auto.commit: "
                              "'false' contradicts consumer.mode auto-commit, which sets enable_auto_commit=true")


def test_a_yaml_settings_file_error_names_its_line(tmp_path):
    write(tmp_path, "producer.yaml", "acks: all\nretries: 0\n")
    assert refused(scenario(tmp_path, "{semantic: idempotent, config_file: producer.yaml}")).startswith(
        f"{tmp_path}/producer.yaml:2: producer.config_file: retries: 0 contradicts semantic idempotent")


@pytest.mark.parametrize("make, why", [
    (lambda p: None, "cannot read it (No such file or directory)"),
    (lambda p: p.write_bytes(b"acks=all\n" + b"#" * yamlfile.MAX_BYTES), f"(allowed: at most {yamlfile.MAX_BYTES})"),
    (lambda p: p.write_bytes(b"acks=all\n\x89PNG\x00\x01"), "not UTF-8 text (line 2)"),
    (lambda p: p.write_bytes(b"acks=all\nx=\x00\x01\n"), "a NUL byte: a binary file"),
    (lambda p: p.mkdir(), "a directory, not a regular file"),
])
def test_a_file_missing_too_big_or_binary_is_one_line_naming_the_field_and_file(tmp_path, make, why):
    make(tmp_path / "producer.properties")
    message = refused(scenario(tmp_path))
    assert "producer.config_file" in message and "producer.properties" in message and why in message


def test_a_relative_path_is_relative_to_the_scenario_not_the_cwd(tmp_path, monkeypatch):
    (tmp_path / "app").mkdir()
    write(tmp_path, "app/producer.properties", "acks=all\n")
    monkeypatch.chdir(tmp_path / "app")
    path = scenario(tmp_path, "{semantic: idempotent, config_file: app/producer.properties}")
    assert load(path).producer.settings_file.path == "app/producer.properties"


# -- what a run records and shows ----------------------------------------------------------------

def test_scenario_json_records_the_file_and_its_keys_masks_secrets_and_reads_back(tmp_path):
    write(tmp_path, "producer.properties", "acks=all\nsasl.plain.password=hunter2\nssl.password=hunter3\n")
    s = load(scenario(tmp_path))
    written = json.dumps(mask(s.to_dict()))   # what runner.run writes as scenario.json
    assert "hunter" not in written
    doc = json.loads(written)
    assert doc["producer"]["settings_file"] == {"path": "producer.properties", "ignored": [],
                                                "keys": ["acks", "sasl.plain.password", "ssl.password"]}
    assert from_dict(doc).producer.settings_file == s.producer.settings_file
    doc["producer"]["settings_file"]["keys"].append("linger.ms")
    with pytest.raises(ScenarioError, match="settings_file.keys: 'linger.ms' is not in producer.config"):
        from_dict(doc)


def test_the_verdict_names_the_file_and_its_keys_never_values(tmp_path):
    doc = {"producer": {"settings_file": {"path": "app/producer.properties", "keys": ["acks", "enable.idempotence"],
                                          "ignored": ["bootstrap.servers"]}},
           "consumer": {"settings_file": None}}
    assert report.settings_lines(doc) == ["settings: producer from app/producer.properties (acks, "
                                          "enable.idempotence); ignored (the run's own): bootstrap.servers"]
    assert report.settings_lines({"producer": {"settings_file": {"path": ["x"]}}, "consumer": "x"}) == []


def test_secret_names_are_known_in_either_spelling_and_masked_in_messages():
    assert all(map(is_secret, ("sasl.jaas.config", "sasl_plain_password", "ssl.key.password", "ssl_keyfile")))
    assert not is_secret("acks")
    assert mask({"sasl.jaas.config": "x", "acks": "all"}) == {"sasl.jaas.config": "***", "acks": "all"}
    assert _masked("ssl_password", "hunter2", "'hunter2' is not a number") == "'***' is not a number"
    assert _masked("linger_ms", "soon", "'soon' is not a number") == "'soon' is not a number"


def test_validate_accepts_the_ci_example_and_prints_where_its_settings_came_from():
    result = CliRunner().invoke(app, ["validate", "examples/ci/kafka-settings-gate.yaml"])
    assert result.exit_code == 0, result.output
    assert "settings: producer from app/producer.properties (acks, retries, enable.idempotence" in result.output
