-- 业务明细 × 个人账户：one row per row of GRMX (same _BATCH, _ROW). Values are text; NULL means "cannot be
-- judged here". The account's state is its state at the end of the batch month (the GRXX snapshot).
-- Deposits: 01 汇缴, 02 补缴, 08 外部转入, 09 年终结息 (> 0); withdrawals and transfers out: 07, 11, 12 (< 0);
-- the sign is judged on ordinary rows (CZBZ 01) only: a reversal (CZBZ 02) carries the opposite sign.
WITH batch_asof AS (
    SELECT _BATCH, strftime(AS_OF, '%Y-%m') AS bm FROM dq_as_of
), accounts AS (
    SELECT _BATCH, GRZH, count(*) AS n, min(DWZH) AS x_dwzh, min(GRZHZT) AS x_grzhzt,
           min(CASE WHEN regexp_full_match(GRZHYE, '-?[0-9]{1,15}(\.[0-9]{1,6})?') THEN CAST(GRZHYE AS DECIMAL(21,6)) END) AS x_grzhye
    FROM GRXX WHERE GRZH IS NOT NULL GROUP BY _BATCH, GRZH
), postings AS (
    SELECT _BATCH, GRZH, CZBZ, CAST(FSE AS DECIMAL(21,6)) AS x_fse
    FROM GRMX WHERE GRZH IS NOT NULL AND regexp_full_match(FSE, '-?[0-9]{1,15}(\.[0-9]{1,6})?')
), base AS (
    SELECT m._BATCH, m._ROW, m.CSDM, m.YWLSH, m.GRZH, m.DWZH, m.GJHTQYWLX, m.CZBZ, m.FSE,
        dq_date(CASE WHEN regexp_full_match(m.JZRQ, '[0-9]{8}') THEN substr(m.JZRQ, 1, 4) || '-' || substr(m.JZRQ, 5, 2) || '-' || substr(m.JZRQ, 7, 2) ELSE m.JZRQ END) AS x_jzrq,
        CASE WHEN regexp_full_match(m.FSE, '-?[0-9]{1,15}(\.[0-9]{1,6})?') THEN CAST(m.FSE AS DECIMAL(21,6)) END AS fse_amt,
        a.n AS accounts_n, a.x_dwzh AS account_dwzh, a.x_grzhzt, a.x_grzhye, s.bm
    FROM GRMX m
    LEFT JOIN accounts a ON a._BATCH = m._BATCH AND a.GRZH = m.GRZH
    LEFT JOIN batch_asof s ON s._BATCH = m._BATCH
)
SELECT _BATCH, _ROW, CSDM, YWLSH, GRZH, DWZH, GJHTQYWLX, CZBZ, FSE,
    strftime(x_jzrq, '%Y-%m-%d') AS JZRQ_D,
    CASE WHEN GRZH IS NULL THEN NULL WHEN accounts_n IS NULL THEN '0' ELSE '1' END AS ACCOUNT_FOUND,
    -- 明细的单位账号与个人账户的单位账号一致（转移当月可能不同：警告）
    CASE WHEN DWZH IS NULL OR account_dwzh IS NULL OR accounts_n <> 1 THEN NULL
         WHEN DWZH = account_dwzh THEN '1' ELSE '0' END AS DWZH_MATCHES,
    -- 记账日期在批次月份内
    CASE WHEN x_jzrq IS NULL OR bm IS NULL THEN NULL WHEN strftime(x_jzrq, '%Y-%m') = bm THEN '1' ELSE '0' END AS JZRQ_IN_MONTH,
    CASE WHEN fse_amt IS NULL OR CZBZ IS DISTINCT FROM '01' THEN NULL
         WHEN GJHTQYWLX IN ('01', '02', '08', '09') THEN CASE WHEN fse_amt > 0 THEN '1' ELSE '0' END
         WHEN GJHTQYWLX IN ('07', '11', '12') THEN CASE WHEN fse_amt < 0 THEN '1' ELSE '0' END
         END AS FSE_SIGN_OK,
    -- 月末冻结（06）的账户本月不得有提取
    CASE WHEN GJHTQYWLX NOT IN ('11', '12') OR GJHTQYWLX IS NULL OR x_grzhzt IS NULL OR accounts_n <> 1 THEN NULL
         WHEN x_grzhzt = '06' THEN '0' ELSE '1' END AS NOT_FROZEN,
    -- 销户提取（12）后账户为提取销户（05）且余额为 0
    CASE WHEN GJHTQYWLX IS DISTINCT FROM '12' OR accounts_n IS NULL OR accounts_n <> 1 OR x_grzhzt IS NULL
              OR x_grzhye IS NULL THEN NULL
         WHEN x_grzhzt = '05' AND x_grzhye = 0 THEN '1' ELSE '0' END AS CLOSES_ACCOUNT,
    -- 冲账（02）须有同一账户、金额相反的原业务
    CASE WHEN CZBZ IS DISTINCT FROM '02' OR GRZH IS NULL OR fse_amt IS NULL THEN NULL
         WHEN EXISTS (SELECT 1 FROM postings p WHERE p._BATCH = base._BATCH AND p.GRZH = base.GRZH
                      AND p.CZBZ = '01' AND p.x_fse = -base.fse_amt) THEN '1' ELSE '0' END AS HAS_ORIGINAL
FROM base
