# A Python 3.11 base equivalent to the official python:3.11-slim the project's Dockerfile
# names, built from a local Debian bookworm image (`docker import` of a debootstrap root) for
# machines that reach Debian's repository but no image registry. Bookworm ships Python 3.11.
ARG DEBIAN_BASE=bilan-debian:bookworm
FROM ${DEBIAN_BASE}
ENV LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive
# The build machine's trusted certificates (its HTTPS proxy's, if it has one), added to
# Debian's when ca-certificates installs; uv reads the system bundle through SSL_CERT_FILE.
COPY host-ca-certificates.crt /usr/local/share/ca-certificates/host-trust.crt
# The updates and security suites too, as the official Debian images have them.
RUN printf '%s\n' \
      'deb http://deb.debian.org/debian bookworm main' \
      'deb http://deb.debian.org/debian bookworm-updates main' \
      'deb http://deb.debian.org/debian-security bookworm-security main' \
      > /etc/apt/sources.list \
 && apt-get update \
 && apt-get -y upgrade \
 && apt-get install -y --no-install-recommends python3.11 python3-pip python3-venv ca-certificates \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb \
 # As in the official image: `python` and `pip` are the 3.11 ones, and pip installs into
 # the system interpreter (the official one is not Debian-managed, so has no such marker).
 && ln -s /usr/bin/python3.11 /usr/local/bin/python \
 && ln -s /usr/bin/pip3 /usr/local/bin/pip \
 && rm -f /usr/lib/python3.11/EXTERNALLY-MANAGED
ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
CMD ["python3"]
