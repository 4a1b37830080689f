"""docs/quickstart.md, "Timeouts and private certificate authorities": Timeout and SSLContext.

The emulator speaks plain HTTP, so the context is built and handed over but not exercised.
corp-ca.pem is a self-signed CA certificate made for this example (its key was thrown away).
"""

import asyncio
import pathlib
import ssl

from luma_async import LumaClient, Timeout

CA_PEM = """\
-----BEGIN CERTIFICATE-----
MIIBoTCCAUegAwIBAgIUV0XNo/WsIdBVw7aVKoCU8YMfznYwCgYIKoZIzj0EAwIw
JTEjMCEGA1UEAwwabHVtYV9hc3luYyBkb2NzIGV4YW1wbGUgQ0EwIBcNMjYxMTI4
MDExMzI5WhgPMjEyNjExMDQwMTEzMjlaMCUxIzAhBgNVBAMMGmx1bWFfYXN5bmMg
ZG9jcyBleGFtcGxlIENBMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEv07VoMgf
7QYIeMBsotUOKlnfsBX9n6f1z8zck6xra64YwbpQGdSGu0BAdUltvFkcbEraURhI
7ir6NXGJASDg3qNTMFEwHQYDVR0OBBYEFK9qs7twBXCfQHx+THYV6TX0/M3TMB8G
A1UdIwQYMBaAFK9qs7twBXCfQHx+THYV6TX0/M3TMA8GA1UdEwEB/wQFMAMBAf8w
CgYIKoZIzj0EAwIDSAAwRQIgVwKkjcW8mU1gaPFoo1YZ/3s0jrc1Oene5ek7xJfB
azoCIQD3LE8vs+GYOGsaf7TMNU7hPauz/mlCqaAkoDpcBWE3zQ==
-----END CERTIFICATE-----
"""


async def main() -> None:
    context = ssl.create_default_context(cafile="corp-ca.pem")  # trusts your private CA
    timeout = Timeout(total=30.0, connect=5.0, submit=60.0)
    async with LumaClient(dialect="gptge", timeout=timeout, ssl=context) as client:
        ...
        task = await client.generate("a red fox")
        print((await client.wait(task, timeout=60)).state)


pathlib.Path("corp-ca.pem").write_text(CA_PEM)
asyncio.run(main())
