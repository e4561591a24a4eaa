"""make package refuses a Lambda zip whose native code the functions' architecture cannot load."""
import zipfile

from infra import build_template


def elf(machine: int) -> bytes:
    header = bytearray(64)
    header[:4] = b"\x7fELF"
    header[18:20] = machine.to_bytes(2, "little")
    return bytes(header)


def package(tmp_path, members):
    path = tmp_path / "deployment.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def test_aarch64_extensions_pass_for_arm64_and_fail_for_x86_64(tmp_path):
    path = package(tmp_path, {"cryptography/hazmat/bindings/_rust.abi3.so": elf(0xB7),
                              "_cffi_backend.cpython-311-aarch64-linux-gnu.so": elf(0xB7), "app.py": b""})
    assert build_template.foreign_native_code(path, "arm64") == []
    assert len(build_template.foreign_native_code(path, "x86_64")) == 2


def test_an_x86_64_wheel_left_in_an_arm64_zip_is_found(tmp_path):
    x86 = "wrapt/_wrappers.cpython-311-x86_64-linux-gnu.so"
    path = package(tmp_path, {x86: elf(0x3E), "libfoo.so.1": b"not an ELF file",
                              "charset_normalizer/md.cpython-311-aarch64-linux-gnu.so": elf(0xB7)})
    foreign = build_template.foreign_native_code(path, "arm64")
    assert [line.split(" ")[0] for line in foreign] == [x86, "libfoo.so.1"]
