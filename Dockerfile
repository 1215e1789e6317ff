# padang112 controller + web console (`padang112 serve`). Build context: the repository.
FROM python:3.11-slim-bookworm
WORKDIR /app
# ffmpeg restreams RTSP cameras to HLS (padang112.cameras.restream); ffprobe checks them. kamailio: the same image
# runs the SIP edge (`padang112 edge run`, docker-compose.yml's profile "cluster"), rendered by the same code
RUN apt-get update && apt-get install -y --no-install-recommends ffmpeg kamailio && rm -rf /var/lib/apt/lists/*
COPY pyproject.toml README.md constraints.txt ./
COPY padang112 ./padang112
COPY web ./web
COPY asterisk ./asterisk
COPY dialplans ./dialplans
COPY ops/kamailio ./ops/kamailio
# editable install: the package finds web/ and the Asterisk templates next to it (padang112.config.PROJECT_ROOT)
RUN pip install --no-cache-dir -c constraints.txt -e .
# not root: its own account, in the group of Asterisk's account (id 112, owner of the recordings it writes)
RUN groupadd --system --gid 112 asterisk \
    && groupadd --system --gid 1120 padang112 \
    && useradd --system --uid 1120 --gid padang112 --groups asterisk --home-dir /var/lib/padang112 --no-create-home padang112
USER padang112
ENV PADANG112_STATE_DIR=/var/lib/padang112 \
    PADANG112_RECORDINGS_DIR=/srv/padang112/recordings
EXPOSE 8080
CMD ["padang112", "serve"]
