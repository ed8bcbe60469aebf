// HttpHeaderBlock: the one reader of HTTP/1.1 heads (findEnd, field lines,
// the strict and the bare-LF-tolerant readings).

#include "core/http/httpheaderblock.h"

#include <QTest>

using Error = HttpHeaderBlock::Error;
Q_DECLARE_METATYPE(HttpHeaderBlock::Error)

class TestHttpHeaderBlock : public QObject
{
    Q_OBJECT
private slots:
    void findEnd_data()
    {
        QTest::addColumn<QByteArray>("data");
        QTest::addColumn<bool>("allowBareLf");
        QTest::addColumn<int>("end");
        QTest::addColumn<Error>("error");

        QTest::newRow("complete") << QByteArray("GET / HTTP/1.1\r\nHost: x\r\n\r\nBODY") << false << 27 << Error::None;
        QTest::newRow("start line only") << QByteArray("GET / HTTP/1.1\r\n\r\n") << false << 18 << Error::None;
        QTest::newRow("not yet") << QByteArray("GET / HTTP/1.1\r\nHost: x\r\n") << false << -1 << Error::None;
        QTest::newRow("split terminator") << QByteArray("GET / HTTP/1.1\r\nHost: x\r\n\r") << false << -1 << Error::None;
        QTest::newRow("bare LF, strict") << QByteArray("GET / HTTP/1.1\nHost: x\n\n") << false << -1 << Error::BareLf;
        QTest::newRow("bare LF is found before the end") << QByteArray("GET / HTTP/1.1\r\nHost: x\n") << false << -1 << Error::BareLf;
        QTest::newRow("bare LF, tolerant") << QByteArray("GET / HTTP/1.1\nHost: x\n\nBODY") << true << 24 << Error::None;
        QTest::newRow("mixed, tolerant") << QByteArray("GET / HTTP/1.1\nHost: x\r\n\r\n") << true << 26 << Error::None;
        QTest::newRow("CR alone does not end a line") << QByteArray("GET / HTTP/1.1\r\rHost: x\r\n\r\n") << false << 27 << Error::None;
        QTest::newRow("empty first line") << QByteArray("\r\nGET") << false << 2 << Error::None;
    }

    void findEnd()
    {
        QFETCH(QByteArray, data);
        QFETCH(bool, allowBareLf);
        QFETCH(int, end);
        QFETCH(Error, error);
        const HttpHeaderBlock::End e = HttpHeaderBlock::findEnd(data, 0, allowBareLf);
        QCOMPARE(e.end, qsizetype(end));
        QCOMPARE(e.error, error);
        // Fed in two reads at every split point, resumed with `from`: the same answer.
        for (qsizetype cut = 0; cut <= data.size(); ++cut) {
            const HttpHeaderBlock::End first = HttpHeaderBlock::findEnd(data.first(cut), 0, allowBareLf);
            if (first.end >= 0 || first.error != Error::None) {
                QCOMPARE(first.end, qsizetype(end));
                QCOMPARE(first.error, error);
                continue;
            }
            const HttpHeaderBlock::End resumed = HttpHeaderBlock::findEnd(data, cut, allowBareLf);
            QCOMPARE(resumed.end, qsizetype(end));
            QCOMPARE(resumed.error, error);
        }
    }

    void fields_data()
    {
        QTest::addColumn<QByteArray>("block");
        QTest::addColumn<bool>("allowBareLf");
        QTest::addColumn<QByteArray>("startLine");
        QTest::addColumn<QByteArrayList>("fields"); // "name=value"
        QTest::addColumn<Error>("error");
        QTest::addColumn<int>("errorLine");

        using L = QByteArrayList;
        QTest::newRow("plain") << QByteArray("POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n") << false
                               << QByteArray("POST /x HTTP/1.1") << L{"Host=a", "Content-Length=5"} << Error::None << 0;
        QTest::newRow("value whitespace trimmed, inner kept")
            << QByteArray("GET / HTTP/1.1\r\nX-A: \t a  b \t\r\n\r\n") << false << QByteArray("GET / HTTP/1.1")
            << L{"X-A=a  b"} << Error::None << 0;
        QTest::newRow("empty value") << QByteArray("GET / HTTP/1.1\r\nX-E:\r\n\r\n") << false
                                     << QByteArray("GET / HTTP/1.1") << L{"X-E="} << Error::None << 0;
        QTest::newRow("colon in value") << QByteArray("GET / HTTP/1.1\r\nHost: a:80\r\n\r\n") << false
                                        << QByteArray("GET / HTTP/1.1") << L{"Host=a:80"} << Error::None << 0;
        QTest::newRow("obs-text in value") << QByteArray("GET / HTTP/1.1\r\nX: caf\xc3\xa9\r\n\r\n") << false
                                           << QByteArray("GET / HTTP/1.1") << L{"X=caf\xc3\xa9"} << Error::None << 0;
        QTest::newRow("without the empty line") << QByteArray("GET / HTTP/1.1\r\nHost: a\r\n") << false
                                                << QByteArray("GET / HTTP/1.1") << L{"Host=a"} << Error::None << 0;
        QTest::newRow("obs-fold") << QByteArray("GET / HTTP/1.1\r\nTransfer-Encoding:\r\n chunked\r\n\r\n") << false
                                  << QByteArray("GET / HTTP/1.1") << L{"Transfer-Encoding="} << Error::ObsFold << 3;
        QTest::newRow("obs-fold with a tab") << QByteArray("GET / HTTP/1.1\r\nA: b\r\n\tc\r\n\r\n") << false
                                             << QByteArray("GET / HTTP/1.1") << L{"A=b"} << Error::ObsFold << 3;
        QTest::newRow("no colon") << QByteArray("GET / HTTP/1.1\r\nno colon\r\n\r\n") << false
                                  << QByteArray("GET / HTTP/1.1") << L{} << Error::NoColon << 2;
        QTest::newRow("space before colon") << QByteArray("GET / HTTP/1.1\r\nContent-Length : 5\r\n\r\n") << false
                                            << QByteArray("GET / HTTP/1.1") << L{} << Error::BadName << 2;
        QTest::newRow("space in name") << QByteArray("GET / HTTP/1.1\r\nBad Name: x\r\n\r\n") << false
                                       << QByteArray("GET / HTTP/1.1") << L{} << Error::BadName << 2;
        QTest::newRow("empty name") << QByteArray("GET / HTTP/1.1\r\n: x\r\n\r\n") << false
                                    << QByteArray("GET / HTTP/1.1") << L{} << Error::BadName << 2;
        QTest::newRow("NUL in value") << QByteArray("GET / HTTP/1.1\r\nX: a\0b\r\n\r\n", 27) << false
                                      << QByteArray("GET / HTTP/1.1") << L{} << Error::BadValue << 2;
        QTest::newRow("NUL in a long value") << QByteArray("GET / HTTP/1.1\r\nX: aaaaaaaaaaaaaaaa\0bbbbbbbbbb\r\n\r\n", 45) << false
                                             << QByteArray("GET / HTTP/1.1") << L{} << Error::BadValue << 2;
        QTest::newRow("CR inside a value") << QByteArray("GET / HTTP/1.1\r\nX: a\rb\r\n\r\n") << false
                                           << QByteArray("GET / HTTP/1.1") << L{} << Error::BadValue << 2;
        QTest::newRow("DEL in value") << QByteArray("GET / HTTP/1.1\r\nX: a\x7f\r\n\r\n") << false
                                      << QByteArray("GET / HTTP/1.1") << L{} << Error::BadValue << 2;
        QTest::newRow("tab in a long value is fine") << QByteArray("GET / HTTP/1.1\r\nX: aaaaaaa\tbbbbbbbbbbbbb\r\n\r\n") << false
                                                     << QByteArray("GET / HTTP/1.1") << L{"X=aaaaaaa\tbbbbbbbbbbbbb"} << Error::None << 0;
        QTest::newRow("bare LF, strict") << QByteArray("GET / HTTP/1.1\r\nA: b\nC: d\r\n\r\n") << false
                                         << QByteArray("GET / HTTP/1.1") << L{} << Error::BareLf << 1;
        QTest::newRow("bare LF in the start line, strict") << QByteArray("GET / HTTP/1.1\nA: b\r\n\r\n") << false
                                                           << QByteArray() << L{} << Error::BareLf << 1;
        QTest::newRow("bare LF, tolerant") << QByteArray("GET / HTTP/1.1\nA: b\nC: d\n\n") << true
                                           << QByteArray("GET / HTTP/1.1") << L{"A=b", "C=d"} << Error::None << 0;
        QTest::newRow("duplicates are all reported") << QByteArray("GET / HTTP/1.1\r\nA: 1\r\na: 2\r\n\r\n") << false
                                                     << QByteArray("GET / HTTP/1.1") << L{"A=1", "a=2"} << Error::None << 0;
    }

    void fields()
    {
        QFETCH(QByteArray, block);
        QFETCH(bool, allowBareLf);
        QFETCH(QByteArray, startLine);
        QFETCH(QByteArrayList, fields);
        QFETCH(Error, error);
        QFETCH(int, errorLine);

        HttpHeaderBlock head(block, allowBareLf);
        QCOMPARE(head.startLine().toByteArray(), startLine);
        QByteArrayList got;
        HttpHeaderBlock::Field f;
        while (head.next(&f))
            got.append(f.name.toByteArray() + '=' + f.value.toByteArray());
        QCOMPARE(got, fields);
        QCOMPARE(head.error(), error);
        if (error != Error::None) {
            QCOMPARE(head.errorLine(), errorLine);
            QVERIFY(head.errorString().startsWith(QStringLiteral("header line %1: ").arg(errorLine)));
        } else {
            QVERIFY(head.errorString().isEmpty());
        }
    }

    void parseDecimal_data()
    {
        QTest::addColumn<QByteArray>("text");
        QTest::addColumn<qint64>("value");
        QTest::newRow("zero") << QByteArray("0") << qint64(0);
        QTest::newRow("number") << QByteArray("1024") << qint64(1024);
        QTest::newRow("leading zeros") << QByteArray("007") << qint64(7);
        QTest::newRow("max") << QByteArray("9223372036854775807") << qint64(9223372036854775807LL);
        QTest::newRow("overflow") << QByteArray("9223372036854775808") << qint64(-1);
        QTest::newRow("empty") << QByteArray("") << qint64(-1);
        QTest::newRow("sign") << QByteArray("+5") << qint64(-1);
        QTest::newRow("negative") << QByteArray("-5") << qint64(-1);
        QTest::newRow("space") << QByteArray("5 ") << qint64(-1);
        QTest::newRow("list") << QByteArray("5, 5") << qint64(-1);
        QTest::newRow("hex") << QByteArray("0x10") << qint64(-1);
    }

    void parseDecimal()
    {
        QFETCH(QByteArray, text);
        QFETCH(qint64, value);
        QCOMPARE(HttpHeaderBlock::parseDecimal(text), value);
    }

    void lists_data()
    {
        QTest::addColumn<QByteArray>("value");
        QTest::addColumn<QByteArray>("token");
        QTest::addColumn<bool>("contains");
        QTest::addColumn<int>("elements");
        QTest::newRow("single") << QByteArray("close") << QByteArray("close") << true << 1;
        QTest::newRow("case-insensitive") << QByteArray("Keep-Alive") << QByteArray("keep-alive") << true << 1;
        QTest::newRow("in a list") << QByteArray("keep-alive, Upgrade") << QByteArray("upgrade") << true << 2;
        QTest::newRow("empty elements skipped") << QByteArray(" , ,close,,") << QByteArray("close") << true << 1;
        QTest::newRow("substring is not a token") << QByteArray("closed") << QByteArray("close") << false << 1;
        QTest::newRow("empty") << QByteArray("") << QByteArray("close") << false << 0;
    }

    void lists()
    {
        QFETCH(QByteArray, value);
        QFETCH(QByteArray, token);
        QFETCH(bool, contains);
        QFETCH(int, elements);
        QCOMPARE(HttpHeaderBlock::listContains(value, token), contains);
        int n = 0;
        HttpHeaderBlock::forEachListElement(value, [&n](QByteArrayView) { ++n; });
        QCOMPARE(n, elements);
    }
};

QTEST_GUILESS_MAIN(TestHttpHeaderBlock)
#include "tst_httpheaderblock.moc"
