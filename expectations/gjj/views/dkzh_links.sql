-- 个贷 × 借款人账户 × 政策参数：one row per row of DKZH (same _BATCH, _ROW). Values are text; NULL means
-- "cannot be judged here". The policy row is ZCXX of the loan's city for the as-of year (exactly one row).
-- 借款人年龄 = 发放日期时的周岁（由身份证号的出生日期算）；年龄 + 期数 / 12 ≤ JKNLSX.
WITH batch_asof AS (
    SELECT _BATCH, CAST(year(AS_OF) AS VARCHAR) AS yr FROM dq_as_of
), policy AS (
    SELECT _BATCH, CSDM, ND, min(DKZGED) AS zged, min(DKZCNX) AS zcnx, min(DKZGBL) AS zgbl, min(JKNLSX) AS nlsx
    FROM ZCXX WHERE CSDM IS NOT NULL AND ND IS NOT NULL
    GROUP BY _BATCH, CSDM, ND HAVING count(*) = 1
), accounts AS (
    SELECT _BATCH, GRZH, count(*) AS n, min(XINGMING) AS x_xingming FROM GRXX WHERE GRZH IS NOT NULL GROUP BY _BATCH, GRZH
), base AS (
    SELECT k._BATCH, k._ROW, k.CSDM, k.DKZH, k.JKRGJJZH, k.JKRXM, k.JKRZJLX, k.JKRZJH, k.HTDKJE, k.DKFFE, k.DKYE,
        k.DKQS, k.DKJQRQ, k.YQBJZE, k.DKFXDJ,
        CASE WHEN regexp_full_match(k.HTDKJE, '-?[0-9]{1,15}(\.[0-9]{1,6})?') THEN CAST(k.HTDKJE AS DECIMAL(21,6)) END AS x_htdkje,
        CASE WHEN regexp_full_match(k.DKFFE, '-?[0-9]{1,15}(\.[0-9]{1,6})?') THEN CAST(k.DKFFE AS DECIMAL(21,6)) END AS x_dkffe,
        CASE WHEN regexp_full_match(k.DKYE, '-?[0-9]{1,15}(\.[0-9]{1,6})?') THEN CAST(k.DKYE AS DECIMAL(21,6)) END AS x_dkye,
        CASE WHEN regexp_full_match(k.FWZJ, '-?[0-9]{1,15}(\.[0-9]{1,6})?') THEN CAST(k.FWZJ AS DECIMAL(21,6)) END AS x_fwzj,
        CASE WHEN regexp_full_match(k.YQBJZE, '-?[0-9]{1,15}(\.[0-9]{1,6})?') THEN CAST(k.YQBJZE AS DECIMAL(21,6)) END AS x_yqbjze,
        CASE WHEN regexp_full_match(k.DKQS, '[0-9]{1,6}') THEN CAST(k.DKQS AS INTEGER) END AS x_dkqs,
        dq_date(CASE WHEN regexp_full_match(k.DKFFRQ, '[0-9]{8}') THEN substr(k.DKFFRQ, 1, 4) || '-' || substr(k.DKFFRQ, 5, 2) || '-' || substr(k.DKFFRQ, 7, 2) ELSE k.DKFFRQ END) AS ffrq,
        dq_date(CASE WHEN regexp_full_match(k.JKHTQDRQ, '[0-9]{8}') THEN substr(k.JKHTQDRQ, 1, 4) || '-' || substr(k.JKHTQDRQ, 5, 2) || '-' || substr(k.JKHTQDRQ, 7, 2) ELSE k.JKHTQDRQ END) AS qdrq,
        CASE WHEN k.JKRZJLX = '01' AND regexp_full_match(k.JKRZJH, '[0-9]{17}[0-9X]')
             THEN dq_date(substr(k.JKRZJH, 7, 4) || '-' || substr(k.JKRZJH, 11, 2) || '-' || substr(k.JKRZJH, 13, 2)) END AS birth,
        CASE WHEN regexp_full_match(p.zged, '[0-9]{1,15}(\.[0-9]{1,6})?') THEN CAST(p.zged AS DECIMAL(21,6)) END AS zged,
        CASE WHEN regexp_full_match(p.zgbl, '[0-9]{1,15}(\.[0-9]{1,6})?') AND CAST(p.zgbl AS DECIMAL(21,6)) <= 1 THEN CAST(p.zgbl AS DECIMAL(21,6)) END AS zgbl,
        CASE WHEN regexp_full_match(p.zcnx, '[0-9]{1,3}') THEN CAST(p.zcnx AS INTEGER) END AS zcnx,
        CASE WHEN regexp_full_match(p.nlsx, '[0-9]{1,3}') THEN CAST(p.nlsx AS INTEGER) END AS nlsx,
        a.n AS accounts_n, a.x_xingming
    FROM DKZH k
    LEFT JOIN batch_asof s ON s._BATCH = k._BATCH
    LEFT JOIN policy p ON p._BATCH = k._BATCH AND p.CSDM = k.CSDM AND p.ND = s.yr
    LEFT JOIN accounts a ON a._BATCH = k._BATCH AND a.GRZH = k.JKRGJJZH
), borrowers AS (
    SELECT _BATCH, JKRZJH, count(*) AS open_n FROM base WHERE JKRZJH IS NOT NULL AND x_dkye > 0 GROUP BY _BATCH, JKRZJH
)
SELECT b._BATCH, b._ROW, b.CSDM, b.DKZH, b.JKRGJJZH, b.JKRXM, b.JKRZJH, b.HTDKJE, b.DKFFE, b.DKYE, b.DKQS, b.DKJQRQ,
    b.YQBJZE, b.DKFXDJ,
    strftime(b.ffrq, '%Y-%m-%d') AS DKFFRQ_D,
    strftime(b.qdrq, '%Y-%m-%d') AS JKHTQDRQ_D,
    CASE WHEN b.JKRGJJZH IS NULL THEN NULL WHEN b.accounts_n IS NULL THEN '0' ELSE '1' END AS ACCOUNT_FOUND,
    CASE WHEN b.JKRXM IS NULL OR b.x_xingming IS NULL OR b.accounts_n <> 1 THEN NULL
         WHEN b.JKRXM = b.x_xingming THEN '1' ELSE '0' END AS NAME_MATCHES,
    -- 合同金额不超过本市最高额度，也不超过房屋总价 × 最高成数
    CASE WHEN b.x_htdkje IS NULL OR b.zged IS NULL OR b.zgbl IS NULL OR b.x_fwzj IS NULL OR b.x_fwzj <= 0 THEN NULL
         WHEN b.x_htdkje <= b.zged AND b.x_htdkje <= b.x_fwzj * b.zgbl THEN '1' ELSE '0' END AS HTDKJE_WITHIN_CAP,
    -- 0 ≤ 贷款余额 ≤ 发放额
    CASE WHEN b.x_dkye IS NULL OR b.x_dkffe IS NULL THEN NULL
         WHEN b.x_dkye >= 0 AND b.x_dkye <= b.x_dkffe THEN '1' ELSE '0' END AS DKYE_IN_RANGE,
    -- 1 ≤ 期数 ≤ 最长年限 × 12（且不超过 360）
    CASE WHEN b.x_dkqs IS NULL OR b.zcnx IS NULL THEN NULL
         WHEN b.x_dkqs BETWEEN 1 AND least(b.zcnx * 12, 360) THEN '1' ELSE '0' END AS DKQS_IN_RANGE,
    CASE WHEN b.x_dkye IS NULL THEN NULL WHEN b.x_dkye = 0 THEN '1' ELSE '0' END AS SETTLED,
    CASE WHEN b.x_dkye IS NOT NULL AND b.x_dkye > 0 AND b.DKJQRQ IS NOT NULL THEN '1' ELSE '0' END AS JQRQ_STRAY,
    -- 逾期本金 ≤ 贷款余额；风险等级为正常（01）时逾期本金为 0
    CASE WHEN b.x_yqbjze IS NULL OR b.x_dkye IS NULL THEN NULL
         WHEN b.x_yqbjze > b.x_dkye OR (b.DKFXDJ = '01' AND b.x_yqbjze <> 0) THEN '0' ELSE '1' END AS YQBJZE_OK,
    -- 同一借款人证件号码至多一笔未结清（余额 > 0）的贷款：每一笔未结清的贷款都计
    CASE WHEN b.JKRZJH IS NULL OR b.x_dkye IS NULL THEN NULL
         WHEN b.x_dkye > 0 AND o.open_n >= 2 THEN '1' ELSE '0' END AS MORE_OPEN_LOANS,
    CASE WHEN b.birth IS NULL OR b.ffrq IS NULL OR b.x_dkqs IS NULL OR b.nlsx IS NULL THEN NULL
         WHEN (year(b.ffrq) - year(b.birth) - CASE WHEN strftime(b.ffrq, '%m-%d') < strftime(b.birth, '%m-%d') THEN 1 ELSE 0 END) * 12
              + b.x_dkqs <= b.nlsx * 12 THEN '1' ELSE '0' END AS AGE_TERM_OK
FROM base b
LEFT JOIN borrowers o ON o._BATCH = b._BATCH AND o.JKRZJH = b.JKRZJH
