"""The emulator's SQS API (moto's server in its own process): nothing lost under concurrent use, nothing left behind."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import psutil

from harness.emulator.event_source_specs import QueueSpec
from harness.emulator.sqs_server import MotoSqsServer, create_queues, sqs_client


def test_messages_sent_while_others_are_deleted_are_all_delivered_and_stop_leaves_no_process():
    server = MotoSqsServer().start()
    try:
        assert server.url is not None
        client = sqs_client(server.url, "us-east-1")
        url = create_queues(client, [QueueSpec("Q", "q", visibility_timeout_s=30)])["Q"].url
        sent = [f"m{n}" for n in range(600)]
        received: list[str] = []
        lock, sending_done = threading.Lock(), threading.Event()

        def send(chunk: list[str]) -> None:
            client.send_message_batch(
                QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": b} for i, b in enumerate(chunk)]
            )

        def consume() -> None:
            while True:
                got = client.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get(
                    "Messages", []
                )
                if not got and sending_done.is_set():
                    return
                if got:
                    entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(got)]
                    client.delete_message_batch(QueueUrl=url, Entries=entries)
                    with lock:
                        received.extend(m["Body"] for m in got)

        consumers = [threading.Thread(target=consume) for _ in range(3)]
        for thread in consumers:
            thread.start()
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(send, [sent[i : i + 10] for i in range(0, len(sent), 10)]))
        sending_done.set()
        for thread in consumers:
            thread.join()
        pid = server.pid
    finally:
        server.stop()

    assert sorted(received) == sorted(sent)  # each exactly once: none lost, none redelivered
    assert pid is not None
    assert not psutil.pid_exists(pid)
    assert server.pid is None
