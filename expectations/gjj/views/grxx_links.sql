-- 个人账户 × 单位 × 政策参数 × 同一证件号码的账户：one row per row of GRXX (same _BATCH, _ROW). Values are text;
-- NULL means "cannot be judged here". Dates may be written YYYY-MM-DD or YYYYMMDD (*_D: canonical text of a
-- valid date); amounts are plain decimals with at most 6 decimals. The batch month is the month of the
-- as-of; the policy row is ZCXX of the account's city for the as-of year (exactly one row, else NULL).
-- 睡眠账户 (dormant): sealed (GRZHZT 02) for at least 24 calendar months since FCRQ and no business for at
-- least 24 months since ZJJYRQ, counted to the batch month (N = M = 24: change both numbers below).
WITH batch_asof AS (
    SELECT _BATCH, CAST(AS_OF AS DATE) AS as_of_d, year(AS_OF) * 12 + month(AS_OF) AS bm_n,
           CAST(year(AS_OF) AS VARCHAR) AS yr
    FROM dq_as_of
), policy AS (
    SELECT _BATCH, CSDM, ND, min(JCJSXX) AS jxx, min(JCJSSX) AS jsx
    FROM ZCXX WHERE CSDM IS NOT NULL AND ND IS NOT NULL
    GROUP BY _BATCH, CSDM, ND HAVING count(*) = 1
), units AS (
    SELECT _BATCH, DWZH, count(*) AS n, min(DWJCBL) AS x_dwjcbl, min(GRJCBL) AS x_grjcbl, min(DWKHRQ) AS x_dwkhrq
    FROM DWXX WHERE DWZH IS NOT NULL GROUP BY _BATCH, DWZH
), people AS (
    SELECT _BATCH, ZJHM, count(*) FILTER (WHERE GRZHZT = '01') AS active_n
    FROM GRXX WHERE ZJHM IS NOT NULL GROUP BY _BATCH, ZJHM
), base AS (
    SELECT g._BATCH, g._ROW, g.CSDM, g.GRZH, g.DWZH, g.XINGMING, g.ZJLX, g.ZJHM, g.XINGBIE, g.CSNY, g.GRZHZT,
        g.GRJCJS, g.GRYJCE, g.DWYJCE, g.GRZHYE, g.KHRQ, g.XHRQ, g.FCRQ, g.ZJJYRQ,
        dq_date(CASE WHEN regexp_full_match(g.KHRQ, '[0-9]{8}') THEN substr(g.KHRQ, 1, 4) || '-' || substr(g.KHRQ, 5, 2) || '-' || substr(g.KHRQ, 7, 2) ELSE g.KHRQ END) AS x_khrq,
        dq_date(CASE WHEN regexp_full_match(g.XHRQ, '[0-9]{8}') THEN substr(g.XHRQ, 1, 4) || '-' || substr(g.XHRQ, 5, 2) || '-' || substr(g.XHRQ, 7, 2) ELSE g.XHRQ END) AS x_xhrq,
        dq_date(CASE WHEN regexp_full_match(g.FCRQ, '[0-9]{8}') THEN substr(g.FCRQ, 1, 4) || '-' || substr(g.FCRQ, 5, 2) || '-' || substr(g.FCRQ, 7, 2) ELSE g.FCRQ END) AS x_fcrq,
        dq_date(CASE WHEN regexp_full_match(g.ZJJYRQ, '[0-9]{8}') THEN substr(g.ZJJYRQ, 1, 4) || '-' || substr(g.ZJJYRQ, 5, 2) || '-' || substr(g.ZJJYRQ, 7, 2) ELSE g.ZJJYRQ END) AS x_zjjyrq,
        dq_date(CASE WHEN regexp_full_match(u.x_dwkhrq, '[0-9]{8}') THEN substr(u.x_dwkhrq, 1, 4) || '-' || substr(u.x_dwkhrq, 5, 2) || '-' || substr(u.x_dwkhrq, 7, 2) ELSE u.x_dwkhrq END) AS unit_khrq,
        CASE WHEN regexp_full_match(g.CSNY, '[0-9]{4}-?[0-9]{2}') AND substr(g.CSNY, 1, 4) <> '0000'
                  AND right(g.CSNY, 2) BETWEEN '01' AND '12'
             THEN substr(g.CSNY, 1, 4) || '-' || right(g.CSNY, 2) END AS x_csny,
        CASE WHEN g.ZJLX = '01' AND regexp_full_match(g.ZJHM, '[0-9]{17}[0-9X]') THEN g.ZJHM END AS citizen,
        CASE WHEN regexp_full_match(g.GRJCJS, '-?[0-9]{1,15}(\.[0-9]{1,6})?') THEN CAST(g.GRJCJS AS DECIMAL(21,6)) END AS base_amt,
        CASE WHEN regexp_full_match(u.x_grjcbl, '[0-9]{1,15}(\.[0-9]{1,6})?') THEN CAST(u.x_grjcbl AS DECIMAL(21,6)) END AS x_grjcbl,
        CASE WHEN regexp_full_match(u.x_dwjcbl, '[0-9]{1,15}(\.[0-9]{1,6})?') THEN CAST(u.x_dwjcbl AS DECIMAL(21,6)) END AS x_dwjcbl,
        CASE WHEN regexp_full_match(g.GRZHSNJZYE, '-?[0-9]{1,15}(\.[0-9]{1,6})?') THEN CAST(g.GRZHSNJZYE AS DECIMAL(21,6)) END AS carried,
        CASE WHEN regexp_full_match(g.GRZHDNGJYE, '-?[0-9]{1,15}(\.[0-9]{1,6})?') THEN CAST(g.GRZHDNGJYE AS DECIMAL(21,6)) END AS collected,
        CASE WHEN regexp_full_match(p.jxx, '[0-9]{1,15}(\.[0-9]{1,6})?') THEN CAST(p.jxx AS DECIMAL(21,6)) END AS jxx,
        CASE WHEN regexp_full_match(p.jsx, '[0-9]{1,15}(\.[0-9]{1,6})?') THEN CAST(p.jsx AS DECIMAL(21,6)) END AS jsx,
        u.n AS units_n, pe.active_n, a.as_of_d, a.bm_n
    FROM GRXX g
    LEFT JOIN batch_asof a ON a._BATCH = g._BATCH
    LEFT JOIN policy p ON p._BATCH = g._BATCH AND p.CSDM = g.CSDM AND p.ND = a.yr
    LEFT JOIN units u ON u._BATCH = g._BATCH AND u.DWZH = g.DWZH
    LEFT JOIN people pe ON pe._BATCH = g._BATCH AND pe.ZJHM = g.ZJHM
), calc AS (
    SELECT *,
        year(x_fcrq) * 12 + month(x_fcrq) AS fcrq_n, year(x_zjjyrq) * 12 + month(x_zjjyrq) AS zjjyrq_n
    FROM base
)
SELECT _BATCH, _ROW, CSDM, GRZH, DWZH, XINGMING, ZJHM, GRZHZT, GRZHYE, GRYJCE, DWYJCE, KHRQ, FCRQ, ZJJYRQ,
    strftime(x_khrq, '%Y-%m-%d') AS KHRQ_D,
    strftime(x_xhrq, '%Y-%m-%d') AS XHRQ_D,
    strftime(unit_khrq, '%Y-%m-%d') AS UNIT_KHRQ_D,
    CASE WHEN DWZH IS NULL THEN NULL WHEN units_n IS NULL THEN '0' ELSE '1' END AS UNIT_FOUND,
    CASE WHEN x_khrq IS NULL OR as_of_d IS NULL THEN NULL WHEN x_khrq > as_of_d THEN '1' ELSE '0' END AS KHRQ_FUTURE,
    -- 销户日期只在销户（03/04/05）时填写，封存日期只在封存（02）时填写
    CASE WHEN XHRQ IS NOT NULL AND GRZHZT IS NOT NULL AND GRZHZT NOT IN ('03', '04', '05') THEN '1' ELSE '0' END AS XHRQ_STRAY,
    CASE WHEN FCRQ IS NOT NULL AND GRZHZT IS NOT NULL AND GRZHZT <> '02' THEN '1' ELSE '0' END AS FCRQ_STRAY,
    -- 出生年月 = 身份证号第 7–12 位；性别与第 17 位一致（奇数为男 1，偶数为女 2；0、9 不判断）
    CASE WHEN citizen IS NULL OR x_csny IS NULL THEN NULL
         WHEN x_csny = substr(citizen, 7, 4) || '-' || substr(citizen, 11, 2) THEN '1' ELSE '0' END AS CSNY_MATCHES,
    CASE WHEN citizen IS NULL OR XINGBIE NOT IN ('1', '2') OR XINGBIE IS NULL THEN NULL
         WHEN (CAST(substr(citizen, 17, 1) AS INTEGER) % 2 = 1) = (XINGBIE = '1') THEN '1' ELSE '0' END AS XINGBIE_MATCHES,
    -- 缴存基数在本市本年度的上下限内
    CASE WHEN base_amt IS NULL OR jxx IS NULL OR jsx IS NULL OR jxx > jsx THEN NULL
         WHEN base_amt BETWEEN jxx AND jsx THEN '1' ELSE '0' END AS GRJCJS_IN_POLICY,
    -- 月缴存额 = round(基数 × 单位的比例, 2)，四舍五入；比例写成百分数或无法读取时不判断
    CASE WHEN base_amt IS NULL OR x_grjcbl IS NULL OR x_grjcbl > 1 OR coalesce(units_n, 0) <> 1 THEN NULL
         ELSE CAST(round(base_amt * x_grjcbl, 2) AS VARCHAR) END AS GRYJCE_CALC,
    CASE WHEN base_amt IS NULL OR x_dwjcbl IS NULL OR x_dwjcbl > 1 OR coalesce(units_n, 0) <> 1 THEN NULL
         ELSE CAST(round(base_amt * x_dwjcbl, 2) AS VARCHAR) END AS DWYJCE_CALC,
    CASE WHEN carried IS NULL OR collected IS NULL THEN NULL ELSE CAST(carried + collected AS VARCHAR) END AS PARTS_SUM,
    -- 一人多户：同一证件号码有两个及以上状态为正常（01）的账户时，该证件号码的每一行
    CASE WHEN ZJHM IS NULL THEN NULL WHEN active_n >= 2 THEN '1' ELSE '0' END AS MULTI,
    CASE WHEN GRZHZT = '02' AND x_fcrq IS NOT NULL AND bm_n IS NOT NULL THEN CAST(bm_n - fcrq_n AS VARCHAR) END AS MONTHS_SEALED,
    CASE WHEN GRZHZT = '02' AND x_zjjyrq IS NOT NULL AND bm_n IS NOT NULL THEN CAST(bm_n - zjjyrq_n AS VARCHAR) END AS MONTHS_IDLE,
    CASE WHEN GRZHZT IS NULL OR bm_n IS NULL THEN NULL
         WHEN GRZHZT <> '02' THEN '0'
         WHEN x_fcrq IS NULL OR x_zjjyrq IS NULL THEN NULL
         WHEN bm_n - fcrq_n >= 24 AND bm_n - zjjyrq_n >= 24 THEN '1' ELSE '0' END AS DORMANT
FROM calc
