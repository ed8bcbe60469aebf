// AdminToken: the bearer check shared by the control routes and the stream.
#include "server/http/admintoken.h"

#include <QTest>

class TestAdminToken : public QObject
{
    Q_OBJECT
private slots:
    void authorizes_data()
    {
        QTest::addColumn<QByteArray>("expected");
        QTest::addColumn<QByteArray>("header");
        QTest::addColumn<bool>("ok");
        QTest::newRow("no token configured") << QByteArray() << QByteArray() << true;
        QTest::newRow("right token") << QByteArray("s3cret") << QByteArray("Bearer s3cret") << true;
        QTest::newRow("scheme in lower case") << QByteArray("s3cret") << QByteArray("bearer s3cret") << true;
        QTest::newRow("scheme in upper case, spaces around") << QByteArray("s3cret") << QByteArray("  BEARER   s3cret ") << true;
        QTest::newRow("missing") << QByteArray("s3cret") << QByteArray() << false;
        QTest::newRow("wrong token") << QByteArray("s3cret") << QByteArray("Bearer s3creT") << false;
        QTest::newRow("prefix of the token") << QByteArray("s3cret") << QByteArray("Bearer s3cre") << false;
        QTest::newRow("token with a suffix") << QByteArray("s3cret") << QByteArray("Bearer s3cretx") << false;
        QTest::newRow("other scheme") << QByteArray("s3cret") << QByteArray("Basic s3cret") << false;
        QTest::newRow("scheme only") << QByteArray("s3cret") << QByteArray("Bearer") << false;
        QTest::newRow("token without scheme") << QByteArray("s3cret") << QByteArray("s3cret") << false;
    }
    void authorizes()
    {
        QFETCH(QByteArray, expected);
        QFETCH(QByteArray, header);
        QFETCH(bool, ok);
        QCOMPARE(AdminToken::authorizes(expected, header), ok);
    }
    void equals()
    {
        QVERIFY(AdminToken::equals("abc", "abc"));
        QVERIFY(!AdminToken::equals("abc", "abd"));
        QVERIFY(!AdminToken::equals("abc", "ab"));
        QVERIFY(!AdminToken::equals("abc", ""));
        QVERIFY(AdminToken::equals("", ""));
    }
};

QTEST_GUILESS_MAIN(TestAdminToken)
#include "tst_admintoken.moc"
